"""Push delivery with production semantics, done by the platform instead of the emulator.

One :class:`DeliveryLoop` per agent subscription pulls from the emulator's pull
subscription and, for each message:

- applies the subscription's deployed filter (the emulator stores filters but does not
  apply them); a message that does not match is acked without delivery, like Pub/Sub's
  auto-ack of filtered messages, and traced as "filtered out";
- POSTs the wrapped push envelope to the agent, with a read timeout equal to the ack
  deadline (the emulator's own push loop has none);
- acks on 102/200/201/202/204 (the emulator treats 202 as failure);
- otherwise leaves the message to be redelivered after the retry policy's exponential
  backoff (an ack-deadline extension of exactly that long: its expiry is a redelivery the
  emulator counts in ``delivery_attempt``);
- after ``max_delivery_attempts`` failed deliveries, publishes it to the dead-letter topic
  with its data and attributes intact plus the four ``CloudPubSubDeadLetterSource*``
  attributes, then acks it. (The emulator's own dead-letter policy, set on the
  subscription with the same maximum, is the backstop if the platform itself stalls.)

Up to ``in_flight`` deliveries run at once per subscription (the manifest's concurrency x
max_instances, capped for a laptop); messages are pulled only into free slots, so none
waits unleased in a local queue. As the official client does, a loaded loop pulls several
messages per request (it waits up to ``PULL_GATHER_SECONDS`` for busy slots to free up)
and acks in batches (:mod:`localdev.ack_batcher`): the emulator serves one request for many
messages instead of three for each.

Stopping (:meth:`DeliveryLoop.stop`) stops pulling, lets the deliveries in flight finish
(their agents are still running) for a bounded time, then abandons the rest: from then on
their acks are not retried, because the emulator is about to go and a retried ack would
hold the platform's exit for the client's whole retry budget (60 s for an ack).

Fault injection (off unless asked for): with ``SWITCHBOARD_LOCAL_DUPLICATE_RATE=R``
(0 < R <= 1) in the platform's environment, each delivered message is, with probability
R, pushed a second time concurrently (after a random 0-250 ms delay), as Pub/Sub's
at-least-once delivery may do. The copy never decides the ack; it is traced as
``duplicate injected``. See docs/fault-injection.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import requests
from google.api_core import exceptions
from google.api_core import retry as retries
from google.cloud import pubsub_v1
from switchboard_contract.outcomes import DUPLICATE_INJECTED

from infra.catalogue import Consumer
from infra.catalogue.filter_language import Filter, parse_filter
from library.deadletters.attributes import dead_letter_attributes
from localdev.ack_batcher import AckBatcher
from localdev.acks import is_ack
from localdev.backoff import backoff_seconds
from localdev.envelope import push_envelope
from localdev.trace import (
    ACKED,
    DEAD_LETTERED,
    FILTERED_OUT,
    RETRY,
    RUNTIME_DEAD_LETTERED,
    TraceEvent,
    TraceWriter,
)

MAX_IN_FLIGHT = 8
PULL_WAIT_SECONDS = 2.0
PULL_GATHER_SECONDS = 0.005
"""With some slots busy, how long a pull waits for more to free up, so that a loaded
subscription pulls several messages per request instead of one."""
LEASE_GRACE_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5.0
# The client library's own retry policies (google-cloud-pubsub's defaults), except that
# a retry waits at most RETRY_MAX_DELAY_SECONDS, so an abandoned loop gives up that soon.
ACK_RETRYABLE = (exceptions.ServiceUnavailable,)
ACK_RETRY_SECONDS = 60.0
PUBLISH_RETRYABLE = (
    exceptions.Aborted,
    exceptions.Cancelled,
    exceptions.DeadlineExceeded,
    exceptions.InternalServerError,
    exceptions.ResourceExhausted,
    exceptions.ServiceUnavailable,
    exceptions.Unknown,
)
PUBLISH_RETRY_SECONDS = 600.0
RETRY_MAX_DELAY_SECONDS = 2.0
DUPLICATE_RATE_ENV = "SWITCHBOARD_LOCAL_DUPLICATE_RATE"
PUSH_HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
}


def duplicate_rate(environ: dict[str, str] | None = None) -> float:
    """The injected duplicate-delivery rate from ``SWITCHBOARD_LOCAL_DUPLICATE_RATE`` (0 = off)."""
    text = (environ if environ is not None else os.environ).get(DUPLICATE_RATE_ENV, "").strip()
    if not text:
        return 0.0
    rate = float(text)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{DUPLICATE_RATE_ENV} must be between 0 and 1, got {text!r}")
    return rate


def in_flight_limit(concurrency: int, max_instances: int, cap: int = MAX_IN_FLIGHT) -> int:
    """How many deliveries may run at once for one subscription: the agent's capacity in
    the cloud (concurrency x max_instances), capped for a laptop."""
    return max(1, min(concurrency * max_instances, cap))


@dataclass(frozen=True)
class Route:
    """Where and how one subscription's messages are delivered."""

    agent: str
    subscription_id: str
    project: str
    endpoint: str
    filter: Filter
    ack_deadline_seconds: int
    minimum_backoff_seconds: float
    maximum_backoff_seconds: float
    max_delivery_attempts: int
    dead_letter_topic_id: str
    in_flight: int

    @property
    def subscription_path(self) -> str:
        return f"projects/{self.project}/subscriptions/{self.subscription_id}"

    @property
    def dead_letter_topic_path(self) -> str:
        return f"projects/{self.project}/topics/{self.dead_letter_topic_id}"

    @classmethod
    def for_consumer(
        cls, consumer: Consumer, project: str, endpoint: str, cap: int = MAX_IN_FLIGHT
    ) -> Route:
        spec = consumer.spec
        return cls(
            agent=consumer.agent.name,
            subscription_id=consumer.subscription_id,
            project=project,
            endpoint=endpoint,
            filter=parse_filter(consumer.effective_filter),
            ack_deadline_seconds=spec.ack_deadline_seconds,
            minimum_backoff_seconds=spec.retry.minimum_backoff_seconds,
            maximum_backoff_seconds=spec.retry.maximum_backoff_seconds,
            max_delivery_attempts=spec.max_delivery_attempts,
            dead_letter_topic_id=consumer.dead_letter_topic_id,
            in_flight=in_flight_limit(
                consumer.agent.concurrency, consumer.agent.max_instances, cap
            ),
        )


MAX_ANSWER_BYTES = 4096
"""Answers longer than this are not read for the runtime's outcome (it sends ~600 bytes)."""


@dataclass(frozen=True)
class PushResult:
    status: int | None
    error: str
    latency_ms: float
    outcome: str = ""
    detail: str = ""


def runtime_answer(content: bytes) -> tuple[str, str]:
    """``(outcome, detail)`` from the runtime's JSON answer; empty where it is not one."""
    if not content or len(content) > MAX_ANSWER_BYTES:
        return "", ""
    try:
        answer = json.loads(content)
    except ValueError:
        return "", ""
    if not isinstance(answer, dict):
        return "", ""
    outcome, detail = answer.get("outcome"), answer.get("detail")
    return (
        outcome[:64] if isinstance(outcome, str) else "",
        detail[:500] if isinstance(detail, str) else "",
    )


def push(
    session: requests.Session, endpoint: str, body: dict[str, Any], read_timeout: float
) -> PushResult:
    """POST one envelope; a connection failure or timeout is a failure with no status."""
    started = time.monotonic()
    try:
        response = session.post(
            endpoint,
            json=body,
            headers=PUSH_HEADERS,
            timeout=(CONNECT_TIMEOUT_SECONDS, read_timeout),
        )
        outcome, detail = runtime_answer(response.content)
        response.close()
        status, error = response.status_code, ""
    except requests.Timeout:
        status, error, outcome, detail = (
            None,
            f"no answer within the {read_timeout:g}s ack deadline",
            "",
            "",
        )
    except requests.ConnectionError:
        status, error, outcome, detail = None, "agent not reachable", "", ""
    return PushResult(status, error, (time.monotonic() - started) * 1000, outcome, detail)


class DeliveryLoop:
    """Pulls one subscription and delivers its messages to one agent (see module docs)."""

    def __init__(
        self,
        route: Route,
        subscriber: pubsub_v1.SubscriberClient,
        publisher: pubsub_v1.PublisherClient,
        trace: TraceWriter,
        duplicate_rate: float = 0.0,
    ) -> None:
        self.route = route
        self.duplicate_rate = duplicate_rate
        self._random = random.Random()
        self._subscriber = subscriber
        self._publisher = publisher
        self._trace = trace
        self._stop = threading.Event()
        self._abandoned = threading.Event()
        self._ack_retry = self._until_abandoned(ACK_RETRYABLE, ACK_RETRY_SECONDS)
        self._publish_retry = self._until_abandoned(PUBLISH_RETRYABLE, PUBLISH_RETRY_SECONDS)
        self._slots = threading.Semaphore(route.in_flight)
        self._in_flight: set[Future[None]] = set()
        self._in_flight_lock = threading.Lock()
        self._local = threading.local()
        self._acks = AckBatcher(self._acknowledge, route.subscription_id)
        self._executor = ThreadPoolExecutor(
            max_workers=route.in_flight, thread_name_prefix=f"deliver-{route.subscription_id}"
        )
        self._thread = threading.Thread(
            target=self._run, name=f"pull-{route.subscription_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Stop pulling (returns at once; :meth:`stop` waits)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pulling, give the deliveries in flight up to ``timeout`` seconds (in all,
        the puller's last pull included) to finish, then abandon what is left: its acks and
        dead-letter publishes fail at their next error instead of retrying for a minute."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._thread.join(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._in_flight_lock:
            pending = list(self._in_flight)
        wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        self._abandoned.set()
        self._acks.close()

    def _until_abandoned(
        self, retryable: tuple[type[Exception], ...], timeout: float
    ) -> retries.Retry:
        """Retry ``retryable`` errors for up to ``timeout`` seconds, as the client library
        would, but not once the loop is abandoned at stop."""

        def worth_retrying(error: Exception) -> bool:
            return not self._abandoned.is_set() and isinstance(error, retryable)

        return retries.Retry(
            initial=0.1,
            maximum=RETRY_MAX_DELAY_SECONDS,
            multiplier=1.3,
            timeout=timeout,
            predicate=worth_retrying,
        )

    def _submit(self, message: Any) -> None:
        try:
            future = self._executor.submit(self._deliver_and_release, message)
        except RuntimeError:  # stopped between the pull and now: the lease expiry redelivers
            self._slots.release()
            return
        with self._in_flight_lock:
            self._in_flight.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future[None]) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(future)

    # -- pulling -------------------------------------------------------------------------

    def _acquire_free_slots(self) -> int:
        if not self._slots.acquire(timeout=0.5):
            return 0
        free = 1
        gathered_by = time.monotonic() + PULL_GATHER_SECONDS
        while free < self.route.in_flight:
            remaining = gathered_by - time.monotonic()
            if remaining <= 0 or not self._slots.acquire(timeout=remaining):
                break
            free += 1
        return free

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            free = self._acquire_free_slots()
            if not free:
                continue
            try:
                response = self._subscriber.pull(
                    request={"subscription": self.route.subscription_path, "max_messages": free},
                    timeout=PULL_WAIT_SECONDS,
                    retry=None,
                )
                received = list(response.received_messages)
            except exceptions.DeadlineExceeded:
                received = []
            except Exception as error:  # emulator gone (stopping) or transient: back off
                self._release(free)
                if not self._stop.is_set():
                    self._trace.info(f"! pull from {self.route.subscription_id} failed: {error}")
                    self._stop.wait(1.0)
                continue
            self._release(free - len(received))
            if not received:
                continue
            self._extend_leases([m.ack_id for m in received])
            for message in received:
                self._submit(message)

    def _extend_leases(self, ack_ids: list[str]) -> None:
        """Hold the lease past the push's read timeout, so a timed-out push is retried with
        the backoff rather than redelivered at once by lease expiry."""
        with contextlib.suppress(exceptions.GoogleAPICallError):
            self._subscriber.modify_ack_deadline(
                request={
                    "subscription": self.route.subscription_path,
                    "ack_ids": ack_ids,
                    "ack_deadline_seconds": self.route.ack_deadline_seconds + LEASE_GRACE_SECONDS,
                },
                retry=self._ack_retry,
            )

    # -- delivering ----------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _deliver_and_release(self, received: Any) -> None:
        try:
            self._deliver(received)
        except Exception as error:  # never lose the slot; the lease expiry redelivers
            if self._abandoned.is_set():
                self._trace.info(
                    f"! a delivery on {self.route.subscription_id} was still running when the "
                    "platform stopped; abandoned"
                )
            else:
                self._trace.info(f"! delivery on {self.route.subscription_id} failed: {error!r}")
        finally:
            self._slots.release()

    def _event(self, message: Any, outcome: str, **fields: Any) -> TraceEvent:
        attributes = message.attributes
        return TraceEvent(
            agent=self.route.agent,
            subscription=self.route.subscription_id,
            event_type=attributes.get("type", ""),
            event_id=attributes.get("event_id", "") or message.message_id,
            message_id=message.message_id,
            outcome=outcome,
            correlation_id=attributes.get("correlation_id", ""),
            causation_id=attributes.get("causation_id", ""),
            **fields,
        )

    def _deliver(self, received: Any) -> None:
        route = self.route
        message = received.message
        attributes = dict(message.attributes)
        attempt = received.delivery_attempt or 1
        if not route.filter.matches(attributes):
            self._ack(received.ack_id)
            self._trace.emit(self._event(message, FILTERED_OUT, attempt=attempt))
            return
        body = push_envelope(
            data=bytes(message.data),
            attributes=attributes,
            message_id=message.message_id,
            publish_time=message.publish_time,
            project=route.project,
            subscription_id=route.subscription_id,
            delivery_attempt=attempt,
        )
        if self.duplicate_rate and self._random.random() < self.duplicate_rate:
            self._push_duplicate(message, body, attempt)
        result = push(self._session(), route.endpoint, body, route.ack_deadline_seconds)
        common = {"attempt": attempt, "status": result.status, "latency_ms": result.latency_ms}
        if is_ack(result.status):
            self._ack(received.ack_id)
            answered = {"agent_outcome": result.outcome}
            if result.outcome == RUNTIME_DEAD_LETTERED:
                answered["detail"] = result.detail
            self._trace.emit(self._event(message, ACKED, **answered, **common))
        elif attempt >= route.max_delivery_attempts:
            self._dead_letter(message, attributes, attempt)
            self._ack(received.ack_id)
            self._trace.emit(self._event(message, DEAD_LETTERED, detail=result.error, **common))
        else:
            delay = backoff_seconds(
                attempt, route.minimum_backoff_seconds, route.maximum_backoff_seconds
            )
            self._retry_after(received.ack_id, delay)
            detail = f"in {delay:g}s" + (f", {result.error}" if result.error else "")
            self._trace.emit(self._event(message, RETRY, detail=detail, **common))

    def _push_duplicate(self, message: Any, body: dict[str, Any], attempt: int) -> None:
        """Fault injection: push the same envelope once more, concurrently (see module docs)."""
        delay = self._random.uniform(0.0, 0.25)

        def send() -> None:
            if self._stop.wait(delay):
                return
            with requests.Session() as session:
                result = push(session, self.route.endpoint, body, self.route.ack_deadline_seconds)
            event = self._event(
                message,
                DUPLICATE_INJECTED,
                attempt=attempt,
                status=result.status,
                latency_ms=result.latency_ms,
                detail=result.error,
            )
            self._trace.emit(event)

        threading.Thread(target=send, name="duplicate", daemon=True).start()

    def _ack(self, ack_id: str) -> None:
        """Acknowledge one message, in a batch with the others acked at about the same
        moment (:mod:`localdev.ack_batcher`); returns once the emulator has it."""
        self._acks.ack(ack_id)

    def _acknowledge(self, ack_ids: list[str]) -> None:
        self._subscriber.acknowledge(
            request={"subscription": self.route.subscription_path, "ack_ids": ack_ids},
            retry=self._ack_retry,
        )

    def _retry_after(self, ack_id: str, delay: float) -> None:
        """Make the message due again in ``delay`` seconds (0 = a plain nack)."""
        self._subscriber.modify_ack_deadline(
            request={
                "subscription": self.route.subscription_path,
                "ack_ids": [ack_id],
                "ack_deadline_seconds": min(600, math.ceil(delay)),
            },
            retry=self._ack_retry,
        )

    def _dead_letter(self, message: Any, attributes: dict[str, str], attempts: int) -> None:
        forwarded = dead_letter_attributes(
            attributes,
            delivery_count=attempts,
            subscription_id=self.route.subscription_id,
            project=self.route.project,
            publish_time=message.publish_time,
        )
        future = self._publisher.publish(
            self.route.dead_letter_topic_path,
            bytes(message.data),
            retry=self._publish_retry,
            **forwarded,
        )
        future.result(timeout=30)
