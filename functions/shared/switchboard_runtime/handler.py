"""The agent wrapper: parse, validate, claim, run, publish, complete; errors -> ack or nack.

Usage in an agent's ``main.py``::

    from typing import TYPE_CHECKING

    from switchboard_runtime import Agent, Context

    if TYPE_CHECKING:  # the models load on first use, not at import (routes.py)
        from switchboard_runtime.events import BookingCancelled, BookingConfirmed

    agent = Agent("billing", secrets=("STRIPE_API_KEY",))

    @agent.on("booking.confirmed")
    def on_confirmed(ctx: Context[BookingConfirmed]) -> str:   # ctx.data: BookingConfirmed
        ...
        ctx.publish("payments", "payment.link_created", {...}, purpose="payment-link")

    @agent.on("booking.cancelled", effects="firestore")
    def on_cancelled(ctx: Context[BookingCancelled]) -> str:   # Firestore writes only
        ctx.writes.set(ctx.firestore().collection("x").document(...), {...})

    def handle(request):            # the functions-framework entry point
        return agent.handle(request)

Every route declares the model of its event's data as ``Context[Model]``: refused at
registration without one, and checked against the registry (``routes.py``) before the first
delivery is handled, so ``ctx.data`` is an instance of it.

Two kinds of route (``docs/agent-contract.md``, "Exactly once"):

- ``effects="external"`` (the default): claim (``create()``), run, complete. The handler's
  staged ``ctx.writes`` ride with the completion.
- ``effects="firestore"``: the handler's only side effects are its staged ``ctx.writes``;
  no claim is written first, and the writes commit with the claim (created ``done``) in one
  batch. A stale read re-runs the handler; it may not publish.

Responses (Pub/Sub acks 2xx, retries anything else):

| case | status | outcome |
|---|---|---|
| processed | 200 | ``processed`` (or what the handler returned) |
| already done, or dead-lettered after being claimed | 200 | ``duplicate`` |
| permanent failure, dead-lettered | 200 | ``dead_lettered`` |
| permanent failure, dead-letter publish failed | 500 | ``dead_letter_failed`` |
| transient failure (claim released) | 503 | ``retry`` |
| ``schema_version`` newer than this revision reads (nothing claimed) | 503 | ``retry`` |
| another delivery holds the claim | 503 | ``busy`` |
| not a push envelope | 400 | ``malformed`` (Pub/Sub retries, then dead-letters) |
| a route's declared model does not fit its type (a bug of the revision) | 500 | ``error`` |
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from switchboard_contract import attributes as attr
from switchboard_contract import outcomes
from switchboard_contract.environment import DEAD_LETTERS, GOOGLE_CLOUD_PROJECT

from switchboard_runtime import logging as slog
from switchboard_runtime.budget import Budget
from switchboard_runtime.envelope import EnvelopeError, Event, parse_envelope
from switchboard_runtime.errors import PermanentError, TransientError, classify
from switchboard_runtime.routes import Declared, RouteError, check, declared
from switchboard_runtime.writes import MAX_RUNS, Writes

if TYPE_CHECKING:
    from flask import Request
    from pydantic import BaseModel

Response = tuple[str, int, dict[str, str]]
Route = Callable[["Context[Any]"], "str | None"]
R = TypeVar("R", bound=Route)
Model = TypeVar("Model", bound="BaseModel")
MAX_ATTRIBUTE_BYTES = 1000
MAX_LOGGED_ID_CHARS = 200  # the sender's ids are bounded only after they are logged

REDRIVE_ATTRIBUTE = attr.REDRIVE_TARGET
"""Set by tools/deadletters on a redriven copy: a failed event may then run again."""
EFFECTS = ("external", "firestore")


class FirestoreOnlyRouteError(RuntimeError):
    """A Firestore-only route tried an external effect (a publish): a bug in the agent."""


@dataclass
class Context(Generic[Model]):
    """What a handler gets: the event, its validated data, time budget and helpers.

    ``Context[BookingConfirmed]``: ``data`` is the event's data validated into that model
    (the route's declared model, ``routes.py``)."""

    agent: str
    event: Event
    data: Model
    budget: Budget
    attempt: int = 1
    taken_over: bool = False
    published: list[str] = field(default_factory=list)
    writes: Writes = field(default_factory=Writes)
    """Firestore writes committed with the claim's final state (``writes.py``)."""
    firestore_only: bool = False

    @property
    def log(self) -> Any:
        return slog.get_logger()

    def derive_id(self, purpose: str) -> str:
        """The deterministic id of the follow-up published for ``purpose``."""
        from switchboard_runtime.publisher import derive_event_id

        return derive_event_id(self.event.event_id, purpose)

    def publish(
        self, topic: str, event_type: str, data: Any, *, purpose: str, event_id: str | None = None
    ) -> str:
        """Publish a follow-up (waits for the server) with correlation and causation ids.

        Its ``event_id`` is ``derive_id(purpose)`` unless given (an id derived from
        something more stable than this event, e.g. one reminder per booking).
        """
        from switchboard_runtime.publisher import publish_event

        if self.firestore_only:
            raise FirestoreOnlyRouteError(
                f"a route with effects='firestore' cannot publish {event_type!r}"
            )
        event_id = event_id or self.derive_id(purpose)
        self.retry(
            lambda: publish_event(
                topic,
                event_type,
                data,
                event_id=event_id,
                source=self.agent,
                correlation_id=self.event.correlation_id,
                causation_id=self.event.event_id,
                timeout=self.budget.call_timeout(cap=30.0),
            )
        )
        self.published.append(event_id)
        return event_id

    def retry(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` with jittered backoff on transient errors, inside the time budget."""
        from switchboard_runtime.retry import call_with_retry

        return call_with_retry(fn, self.budget)

    def firestore(self) -> Any:
        from switchboard_runtime.clients import firestore_client

        return firestore_client()


class Agent:
    """One agent: its name, the secrets to redact, and a route per event type.

    Construction starts the instance's background warm-up (``warmup.py``): the runtime's
    SDKs and clients, then ``preload`` (the agent's own, e.g. its third-party client).
    """

    def __init__(
        self, name: str, *, secrets: Sequence[str] = (), preload: Sequence[Callable[[], Any]] = ()
    ) -> None:
        import sys

        from switchboard_runtime import warmup

        self.name = name
        self.secrets = tuple(secrets)
        self.routes: dict[str, Route] = {}
        self.declared: dict[str, Declared] = {}
        """Each event type's route's declared model (``Context[Model]``)."""
        self.firestore_only: set[str] = set()
        self._checked = False  # check_routes() has run since the last registration
        self._problem: RouteError | None = None  # and what it found
        slog.configure(self.secrets)
        caller = sys._getframe(1).f_globals.get("__name__")  # the agent's entry module
        self.warmup = warmup.start(preload, after_import=caller)

    def on(self, *event_types: str, effects: str = "external") -> Callable[[R], R]:
        """Route ``event_types`` to the decorated handler, whose context parameter declares
        the event model (``ctx: Context[Model]``; RouteError without). ``effects="firestore"``:
        its only side effects are its staged ``ctx.writes`` (committed with the claim)."""
        if effects not in EFFECTS:
            raise ValueError(f"effects must be one of {EFFECTS}, not {effects!r}")

        def register(route: R) -> R:
            import sys

            declaration = declared(route, Context)
            if "switchboard_runtime.events" in sys.modules:
                check(declaration, event_types)  # free once the models are loaded
            self._checked = False
            for event_type in event_types:
                self.routes[event_type] = route
                self.declared[event_type] = declaration
                if effects == "firestore":
                    self.firestore_only.add(event_type)
                else:
                    self.firestore_only.discard(event_type)
            return route

        return register

    def check_routes(self) -> None:
        """RouteError unless every route's declared model is what its event types are read
        as (or a base of it). Imports the models: run before the first delivery, not at
        import (``routes.py``)."""
        by_route: dict[Declared, list[str]] = {}
        for event_type, declaration in self.declared.items():
            by_route.setdefault(declaration, []).append(event_type)
        for declaration, event_types in by_route.items():
            check(declaration, event_types)

    def _route_problem(self) -> RouteError | None:
        """:meth:`check_routes`' verdict, computed once."""
        if not self._checked:
            try:
                self.check_routes()
                self._problem = None
            except RouteError as exc:
                self._problem = exc
            self._checked = True
        return self._problem

    # -- the HTTP entry point --------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        started = time.monotonic()
        budget = Budget()
        token = slog.bind(agent=self.name, **_trace(request))
        outcome, status, body = "error", 500, "the handler died"
        try:
            outcome, status, body = self._handle(request, budget)
            return _respond(status, outcome, body)
        finally:
            # The one request line per delivery (log-based metrics count its ``outcome``).
            latency = round((time.monotonic() - started) * 1000, 1)
            fields = {"outcome": outcome, "status": status, "latency_ms": latency}
            if body:
                fields["reason"] = body[:500]
            slog.get_logger().log(_level(status, outcome), outcome, extra={"fields": fields})
            slog.unbind(token)

    def _handle(self, request: Request, budget: Budget) -> tuple[str, int, str]:
        if request.method != "POST":
            return "method_not_allowed", 405, "POST a Pub/Sub push envelope"
        problem = self._route_problem()
        if problem is not None:
            # A bug of this revision: nothing is claimed or dead-lettered; Pub/Sub retries
            # until a revision whose routes fit their types takes the event.
            return "error", 500, str(problem)
        try:
            event = parse_envelope(request.get_data(cache=False))
        except EnvelopeError as exc:
            return "malformed", 400, str(exc)
        slog.bind(
            event_id=event.event_id[:MAX_LOGGED_ID_CHARS],
            type=event.type[:MAX_LOGGED_ID_CHARS],
            correlation_id=event.correlation_id[:MAX_LOGGED_ID_CHARS],
            subscription=event.subscription,
            delivery_attempt=event.delivery_attempt,
        )
        try:
            data = self._validate(event)
        except PermanentError as exc:
            return self._dead_letter(event, exc.reason, None)
        except TransientError as exc:
            # A schema_version newer than this revision reads: a rollout in progress.
            slog.get_logger().warning(f"not yet: {exc.reason}")
            return "retry", 503, exc.reason
        return self._run(event, data, budget)

    def _validate(self, event: Event) -> BaseModel:
        from switchboard_runtime.events import SCHEMA_VERSION_ATTRIBUTE, read, spec_for

        event.require()
        spec_for(event.type)
        if event.type not in self.routes:
            raise PermanentError(f"agent {self.name!r} does not handle {event.type!r}")
        version = event.attributes.get(SCHEMA_VERSION_ATTRIBUTE)
        return read(event.type, event.json_data(), version)

    def _run(  # noqa: PLR0911 - one return per row of the response table
        self, event: Event, data: BaseModel, budget: Budget
    ) -> tuple[str, int, str]:
        from switchboard_runtime.idempotency import Claim, ClaimResult

        redriven = bool(event.attributes.get(REDRIVE_ATTRIBUTE))
        claim = Claim(self.name, event.event_id, event.type, redrive=redriven)
        if event.type in self.firestore_only:
            return self._run_firestore_only(event, data, budget, claim)
        try:
            result = claim.acquire()
        except Exception as exc:
            verdict = classify(exc)
            if isinstance(verdict, PermanentError):
                # Firestore refused this event's data (InvalidArgument): it never will take it.
                return self._dead_letter(event, f"claim refused: {verdict.reason}", None)
            slog.get_logger().warning(f"claim failed: {verdict.reason}")
            return "retry", 503, "claim failed"
        if result is ClaimResult.DUPLICATE:
            return "duplicate", 200, "already processed"
        if result is ClaimResult.BUSY:
            return "busy", 503, "another delivery is processing this event"
        context = Context(
            self.name,
            event,
            data,
            budget,
            attempt=claim.attempts,
            taken_over=result is ClaimResult.TAKEN_OVER,
        )
        try:
            outcome = self.routes[event.type](context) or "processed"
        except Exception as exc:
            verdict = classify(exc)
            if isinstance(verdict, PermanentError):
                slog.get_logger().warning(f"permanent failure: {verdict.reason}")
                return self._dead_letter(event, verdict.reason, claim)
            slog.get_logger().warning(f"transient failure: {verdict.reason}", exc_info=True)
            _quietly(claim.release)
            return "retry", 503, verdict.reason
        try:
            claim.complete(outcome, context.writes)
        except Exception as exc:
            # Side effects are done; a redelivery re-runs after the lease and relies on
            # the third parties' idempotency and our own records.
            slog.get_logger().warning(f"completion failed: {classify(exc).reason}")
            return "retry", 503, "completion failed"
        return outcome, 200, ""

    def _run_firestore_only(
        self, event: Event, data: BaseModel, budget: Budget, claim: Any
    ) -> tuple[str, int, str]:
        """Run the handler, then commit its writes with the claim; again on a stale read."""
        from switchboard_runtime.idempotency import ClaimResult

        for run in range(1, MAX_RUNS + 1):
            context = Context(self.name, event, data, budget, attempt=run, firestore_only=True)
            try:
                outcome = self.routes[event.type](context) or "processed"
                result = claim.commit(outcome, context.writes)
            except Exception as exc:
                return self._firestore_only_failure(event, classify(exc), claim)
            if result is ClaimResult.COMMITTED:
                return outcome, 200, ""
            if result is ClaimResult.DUPLICATE:
                return "duplicate", 200, "already processed"
            if result is ClaimResult.BUSY:
                return "busy", 503, "another delivery is processing this event"
            if budget.remaining() < 1.0:
                break
        return "retry", 503, "the handler's reads kept going stale"

    def _firestore_only_failure(
        self, event: Event, verdict: PermanentError | TransientError, claim: Any
    ) -> tuple[str, int, str]:
        """Nothing was written: retry a transient failure; dead-letter a permanent one
        unless the event is already done or failed (a copy: acked as a duplicate)."""
        reason = verdict.reason
        if not isinstance(verdict, PermanentError):
            slog.get_logger().warning(f"transient failure: {reason}", exc_info=True)
            return "retry", 503, reason
        if _quietly(claim.finished):
            return "duplicate", 200, "already processed"
        slog.get_logger().warning(f"permanent failure: {reason}")
        return self._dead_letter(event, reason, claim, firestore_only=True)

    def _dead_letter(
        self, event: Event, reason: str, claim: Any, *, firestore_only: bool = False
    ) -> tuple[str, int, str]:
        """Publish the original message, with the reason, to its dead-letter topic."""
        from switchboard_runtime.publisher import (
            ConfigurationError,
            dead_letter_topics,
            publish_raw,
        )

        try:
            topic = dead_letter_topics().get(event.subscription)
            if not topic:
                raise ConfigurationError(
                    f"no dead-letter topic for subscription {event.subscription!r} in "
                    f"{DEAD_LETTERS}"
                )
            attributes = {
                **event.attributes,
                attr.FAILURE_REASON: _clip(reason),
                attr.FAILED_AGENT: self.name,
                attr.FAILED_SUBSCRIPTION: event.subscription,
            }
            publish_raw(topic, event.raw_data, attributes)
        except Exception as exc:
            slog.get_logger().error(f"dead-letter publish failed: {exc}")
            if claim is not None and not firestore_only:
                _quietly(claim.release)
            return outcomes.DEAD_LETTER_FAILED, 500, "could not dead-letter; retry"
        if claim is not None and firestore_only:
            # Nothing was claimed: record the failure so a redelivery is a duplicate.
            _quietly(lambda: claim.record_failure(reason))
        elif claim is not None:
            # Only our own live claim becomes ``failed``. A message refused before it was
            # claimed records nothing: its event_id is unverified, so it must neither undo
            # a ``done`` event nor make a later valid copy a duplicate.
            _quietly(lambda: claim.fail(reason))
        slog.get_logger().warning(f"dead-lettered: {reason}")
        return outcomes.RUNTIME_DEAD_LETTERED, 200, reason


def _level(status: int, outcome: str) -> int:
    if status >= 500 and outcome not in {outcomes.RUNTIME_RETRY, outcomes.BUSY}:
        return logging.ERROR
    if status >= 400 or outcome == outcomes.RUNTIME_DEAD_LETTERED:
        return logging.WARNING
    return logging.INFO


def _clip(text: str) -> str:
    encoded = text.encode()[:MAX_ATTRIBUTE_BYTES]
    return encoded.decode("utf-8", "ignore")


def _quietly(action: Callable[[], Any]) -> Any:
    """``action()``, or None (logged) if it raised."""
    try:
        return action()
    except Exception as exc:
        slog.get_logger().warning(f"ignored: {classify(exc).reason}")
        return None


def _trace(request: Request) -> dict[str, Any]:
    import os

    return slog.trace_fields(request.headers, os.environ.get(GOOGLE_CLOUD_PROJECT))


def _respond(status: int, outcome: str, detail: str) -> Response:
    body = json.dumps({"outcome": outcome, "detail": detail[:500]})
    return body, status, {"Content-Type": "application/json"}


__all__ = ["Agent", "Context", "PermanentError", "TransientError"]
