"""A small local platform for agent tests: env of the contract, topics, taps, push calls.

Each agent test module makes one :class:`Harness` with its own project id, so modules
never see each other's documents or messages.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdev.emulators import Emulators, wipe_firestore

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO_ROOT / "functions"


@functools.cache
def topics() -> tuple[str, ...]:
    """Every topic of the catalogue: each gets a tap, whichever agent is tested."""
    from infra.catalogue import load_catalogue

    return tuple(load_catalogue(FUNCTIONS).topics)


BOOKING_API_KEY = "sbk_test_booking_api_key_0000000000000001"
SERVICES = "Tuning,Fitting,haircut"
SECRETS = {
    "STRIPE_API_KEY": "sk_test_sandboxsecretkey0001",
    "STRIPE_WEBHOOK_SECRET": "whsec_sandboxwebhooksecret0001",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token-sandbox-0001",
    "GOOGLE_CALENDAR_CREDENTIALS": json.dumps({"type": "service_account", "private_key": "x" * 40}),
    "BOOKING_API_KEYS": json.dumps({"tests": {"keys": [BOOKING_API_KEY], "per_minute": 600}}),
}


def api_headers(**extra: str) -> dict[str, str]:
    """The booking API's credential (``Authorization: Bearer``) plus ``extra`` headers."""
    return {"Authorization": f"Bearer {BOOKING_API_KEY}", **extra}


_apps: dict[str, Any] = {}


def agent_app(agent: str) -> Any:
    """The agent's functions-framework app (entry point ``handle``), built once per session."""
    if agent not in _apps:
        import functions_framework

        _apps[agent] = functions_framework.create_app(
            target="handle", source=str(FUNCTIONS / agent / "main.py")
        )
    return _apps[agent]


@dataclass
class Message:
    attributes: dict[str, str]
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Harness:
    emulators: Emulators
    sandbox: Any
    project: str
    agent: str
    consumes: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    # -- environment ----------------------------------------------------------------------

    def subscription(self, topic: str) -> str:
        return f"{self.agent}-{topic}"

    def dead_letter_topic(self, topic: str) -> str:
        return f"{self.agent}-{topic}-dead-letter"

    def env(self) -> dict[str, str]:
        env = {
            **self.emulators.client_env(self.project),
            "SWITCHBOARD_AGENT": self.agent,
            "SWITCHBOARD_ENVIRONMENT": "local",
            "SWITCHBOARD_TIMEOUT_SECONDS": "20",
            "SWITCHBOARD_FIRESTORE_DATABASE": "(default)",
            "SWITCHBOARD_DEAD_LETTERS": json.dumps(
                {self.subscription(t): self.dead_letter_topic(t) for t in self.consumes}
            ),
            "SANDBOX_STRIPE_API_BASE": self.sandbox.url,
            "SANDBOX_TWILIO_API_BASE": self.sandbox.url,
            "SANDBOX_CALENDAR_API_BASE": self.sandbox.url,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "CALENDAR_ID": "bookings@example.com",
            "LOG_LEVEL": "INFO",
            "BOOKING_SERVICES": SERVICES,
            **SECRETS,
            **self.extra_env,
        }
        for topic in self.publishes:
            env[f"SWITCHBOARD_TOPIC_{topic.upper()}"] = topic
        return env

    @classmethod
    def started(cls, *args: Any, **kwargs: Any) -> Harness:
        """A harness whose topics (and taps) exist: the module-scoped fixture's body."""
        harness = cls(*args, **kwargs)
        harness.create_topics()
        return harness

    def activate(self, monkeypatch: Any) -> Harness:
        """The contract's env for this test, and a clean Firestore, sandbox and taps."""
        self.apply_env(monkeypatch)
        self.reset()
        return self

    def apply_env(self, monkeypatch: Any) -> None:
        for name, value in self.env().items():
            monkeypatch.setenv(name, value)

    # -- Pub/Sub: topics and taps ----------------------------------------------------------

    def _clients(self) -> tuple[Any, Any]:
        os.environ["PUBSUB_EMULATOR_HOST"] = self.emulators.pubsub.address
        from google.cloud import pubsub_v1

        return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()

    def create_topics(self) -> None:
        """Every topic and dead-letter topic, each with a pull 'tap' subscription."""
        publisher, subscriber = self._clients()
        names = [*topics(), *(self.dead_letter_topic(t) for t in self.consumes)]
        for name in names:
            topic = f"projects/{self.project}/topics/{name}"
            tap = f"projects/{self.project}/subscriptions/{name}-tap"
            try:
                publisher.create_topic(name=topic)
            except Exception as exc:
                if "AlreadyExists" not in type(exc).__name__:
                    raise
            try:
                subscriber.create_subscription(name=tap, topic=topic, ack_deadline_seconds=60)
            except Exception as exc:
                if "AlreadyExists" not in type(exc).__name__:
                    raise

    def pull(self, topic: str) -> list[Message]:
        """Everything on ``topic``'s tap since the last pull (acked)."""
        _, subscriber = self._clients()
        tap = f"projects/{self.project}/subscriptions/{topic}-tap"
        found: list[Message] = []
        while True:
            with warnings.catch_warnings():
                # Deprecated in production, but the emulator honours it: no waiting here.
                warnings.simplefilter("ignore", DeprecationWarning)
                answer = subscriber.pull(
                    request={"subscription": tap, "max_messages": 100, "return_immediately": True},
                    timeout=10,
                )
            if not answer.received_messages:
                return found
            for received in answer.received_messages:
                found.append(
                    Message(dict(received.message.attributes), bytes(received.message.data))
                )
            subscriber.acknowledge(
                request={
                    "subscription": tap,
                    "ack_ids": [r.ack_id for r in answer.received_messages],
                }
            )

    def drain(self) -> None:
        for topic in (*topics(), *(self.dead_letter_topic(t) for t in self.consumes)):
            self.pull(topic)

    def reset(self) -> None:
        wipe_firestore(self.emulators.firestore.address, self.project)
        self.sandbox.reset()
        self.drain()

    # -- push deliveries -------------------------------------------------------------------

    def envelope(
        self,
        topic: str,
        event_type: str,
        data: Any,
        *,
        event_id: str,
        attributes: dict[str, str] | None = None,
        message_id: str = "1",
        raw: bytes | None = None,
    ) -> dict[str, Any]:
        payload = raw if raw is not None else json.dumps(data).encode()
        return {
            "message": {
                "data": base64.b64encode(payload).decode(),
                "attributes": {
                    "type": event_type,
                    "event_id": event_id,
                    "source": "test",
                    "correlation_id": f"corr-{event_id}",
                    "causation_id": "",
                    **(attributes or {}),
                },
                "messageId": message_id,
                "publishTime": "2026-11-27T00:00:00Z",
            },
            "subscription": f"projects/{self.project}/subscriptions/{self.subscription(topic)}",
            "deliveryAttempt": 1,
        }

    def push(self, envelope: dict[str, Any], client: Any = None) -> Any:
        client = client or agent_app(self.agent).test_client()
        return client.post("/", json=envelope, headers={"X-Cloud-Trace-Context": "abc123/1;o=1"})

    def claim_doc(self, event_id: str) -> dict[str, Any] | None:
        snapshot = (
            self.firestore()
            .collection("processed_events")
            .document(f"{self.agent}:{event_id}")
            .get()
        )
        return snapshot.to_dict() if snapshot.exists else None

    def expire_lease(self, event_id: str) -> None:
        """Simulate the crashed holder's lease running out."""
        import datetime as dt

        self.firestore().collection("processed_events").document(f"{self.agent}:{event_id}").update(
            {"lease_expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}
        )

    def firestore(self) -> Any:
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.emulators.firestore.address
        from google.cloud import firestore

        return firestore.Client(project=self.project)


def together(actions: list[Callable[[], Any]], timeout: float = 90) -> list[Any]:
    """Run every action at once (a barrier releases them together); their results."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = actions[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


class SimulatedCrash(BaseException):
    """Raised by a test hook after a side effect: the handler dies before completing."""


def crash_after(module: Any, name: str, monkeypatch: Any) -> None:
    """Make ``module.name`` do its work, then crash the request (once)."""
    original = getattr(module, name)

    def crashing(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        monkeypatch.setattr(module, name, original)
        raise SimulatedCrash(name)

    monkeypatch.setattr(module, name, crashing)


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
