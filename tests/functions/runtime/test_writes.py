"""Firestore-only routes on the emulator: staged writes commit with the claim, once.

A route with ``effects="firestore"`` writes nothing before its one commit: concurrent
copies apply its writes once, a crash (the process killed, or the commit failing) before
that commit leaves nothing, and the event is processed by the next delivery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import flask
import pytest
from google.api_core import exceptions as gexc
from switchboard_runtime import Agent, Context, PermanentError
from switchboard_runtime.events import BookingCancelled, BookingRejected
from switchboard_runtime.writes import MAX_WRITES, TooManyWritesError, Writes

from tests.functions.harness import Harness, together

pytestmark = pytest.mark.emulator
PROJECT = "demo-writes-tests"
AGENT = "wtest"
TOPIC = "bookings"
SHARED = Path(__file__).resolve().parents[3] / "functions" / "shared"

agent = Agent(AGENT)
app = flask.Flask(__name__)
gate: dict[str, threading.Barrier] = {}
runs: list[tuple[str, int]] = []


@agent.on("booking.cancelled", effects="firestore")
def cancelled(ctx: Context[BookingCancelled]) -> str:
    """Counts the event on ``counters/<booking>`` and logs each run as its own document."""
    from google.cloud import firestore

    booking = ctx.data
    db = ctx.firestore()
    runs.append((ctx.event.event_id, ctx.attempt))
    counter = db.collection("counters").document(booking.booking_id)
    snapshot = ctx.writes.read(counter)
    seen = (snapshot.to_dict() or {}).get("events", []) if snapshot.exists else []
    ctx.writes.merge(counter, {"events": [*seen, ctx.event.event_id]}, since=snapshot)
    ctx.writes.set(counter, {"increments": firestore.Increment(1)}, merge=True)
    ctx.writes.create(db.collection("applied").document(uuid.uuid4().hex), {"run": 1})
    barrier = gate.get(booking.reason or "")
    if barrier is not None and ctx.attempt == 1:
        barrier.wait(timeout=30)  # every copy has read and staged: now they all commit
    if booking.reason == "permanent":
        raise PermanentError("told to fail")
    if booking.reason == "publish":
        ctx.publish("bookings", "booking.cancelled", {"booking_id": "bk-x"}, purpose="x")
    if booking.reason == "many":
        for index in range(MAX_WRITES + 1):
            ctx.writes.set(db.collection("applied").document(f"many-{index}"), {})
    return "counted"


@agent.on("booking.rejected")
def rejected(ctx: Context[BookingRejected]) -> str:
    """An external-effects route whose bookkeeping write rides with the completion."""
    booking = ctx.data
    ctx.writes.set(
        ctx.firestore().collection("bookkeeping").document(booking.booking_id), {"done": True}
    )
    return "rejected"


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(emulators, sandbox_server, PROJECT, AGENT, consumes=(TOPIC,))


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    gate.clear()
    runs.clear()
    return harness.activate(monkeypatch)


def envelope(
    platform: Harness, event_id: str, reason: str | None = None, booking: str = "bk-0001"
) -> dict[str, Any]:
    data = {"booking_id": booking, "reason": reason}
    return platform.envelope(TOPIC, "booking.cancelled", data, event_id=event_id)


def deliver(body: dict[str, Any]) -> tuple[int, str]:
    with app.test_request_context("/", method="POST", json=body):
        text, status, _ = agent.handle(flask.request)
    return status, json.loads(text)["outcome"]


def counter(platform: Harness, booking: str = "bk-0001") -> dict[str, Any] | None:
    return platform.firestore().collection("counters").document(booking).get().to_dict()


def applied(platform: Harness) -> int:
    return len(list(platform.firestore().collection("applied").stream()))


def deliver_together(bodies: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return together([partial(deliver, body) for body in bodies])


def test_a_new_event_commits_its_writes_and_claim_in_one_commit(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud.firestore_v1.services.firestore import FirestoreClient

    calls: list[str] = []
    for name in ("commit", "batch_get_documents", "begin_transaction", "rollback"):
        original = getattr(FirestoreClient, name)

        def counted(self: Any, *args: Any, _name: str = name, _f: Any = original, **kw: Any) -> Any:
            calls.append(_name)
            return _f(self, *args, **kw)

        monkeypatch.setattr(FirestoreClient, name, counted)
    assert deliver(envelope(platform, "evt-1")) == (200, "counted")
    # The handler's one read, then one commit: its three writes and the claim.
    assert calls == ["batch_get_documents", "commit"]
    claim = platform.claim_doc("evt-1")
    assert claim["state"] == "done" and claim["outcome"] == "counted"
    assert "lease_expires_at" not in claim
    assert counter(platform) == {"events": ["evt-1"], "increments": 1}
    assert applied(platform) == 1


def test_concurrent_deliveries_of_one_event_apply_its_writes_once(platform: Harness) -> None:
    copies = 4
    gate["race"] = threading.Barrier(copies)
    results = deliver_together([envelope(platform, "evt-race", "race") for _ in range(copies)])
    assert len(runs) == copies  # every copy ran the handler and tried to commit
    assert sorted(results) == [(200, "counted")] + [(200, "duplicate")] * (copies - 1)
    assert counter(platform) == {"events": ["evt-race"], "increments": 1}
    assert applied(platform) == 1
    assert platform.claim_doc("evt-race")["state"] == "done"
    assert deliver(envelope(platform, "evt-race")) == (200, "duplicate")
    assert applied(platform) == 1


def test_a_stale_read_reruns_the_handler_and_loses_no_update(platform: Harness) -> None:
    gate["stale"] = threading.Barrier(2)
    results = deliver_together([envelope(platform, f"evt-{n}", "stale") for n in ("a", "b")])
    assert results == [(200, "counted"), (200, "counted")]
    final = counter(platform)
    assert sorted(final["events"]) == ["evt-a", "evt-b"] and final["increments"] == 2
    # One of them found the counter changed at commit and ran again on a fresh read.
    assert sorted(attempt for _, attempt in runs) == [1, 1, 2]
    assert applied(platform) == 2


def test_a_failing_commit_leaves_nothing_and_the_event_processable(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud.firestore_v1.batch import WriteBatch

    original = WriteBatch.commit

    def unavailable(self: WriteBatch, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(WriteBatch, "commit", original)
        raise gexc.ServiceUnavailable("Firestore is away")

    monkeypatch.setattr(WriteBatch, "commit", unavailable)
    assert deliver(envelope(platform, "evt-1")) == (503, "retry")
    assert platform.claim_doc("evt-1") is None
    assert counter(platform) is None and applied(platform) == 0
    assert deliver(envelope(platform, "evt-1")) == (200, "counted")
    assert counter(platform) == {"events": ["evt-1"], "increments": 1}
    assert applied(platform) == 1


KILLED = textwrap.dedent(
    """
    import json, os, signal, sys
    sys.path[:0] = [sys.argv[1]]
    import flask
    from switchboard_runtime import Agent, Context
    from switchboard_runtime.events import BookingCancelled
    from switchboard_runtime.writes import Writes

    commit = Writes.apply
    def die(self, batch):
        commit(self, batch)
        os.kill(os.getpid(), signal.SIGKILL)  # staged and batched, never committed
    Writes.apply = die

    agent = Agent(os.environ["SWITCHBOARD_AGENT"])

    @agent.on("booking.cancelled", effects="firestore")
    def cancelled(ctx: Context[BookingCancelled]) -> str:
        ref = ctx.firestore().collection("counters").document(ctx.data.booking_id)
        ctx.writes.set(ref, {"increments": 1})
        return "counted"

    app = flask.Flask("killed")
    with app.test_request_context("/", method="POST", json=json.loads(sys.argv[2])):
        agent.handle(flask.request)
    """
)


def test_a_process_killed_before_the_commit_leaves_nothing(platform: Harness) -> None:
    body = envelope(platform, "evt-killed")
    env = {**os.environ, **platform.env(), "SWITCHBOARD_PRELOAD": "off"}
    child = subprocess.run(
        [sys.executable, "-c", KILLED, str(SHARED), json.dumps(body)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert platform.claim_doc("evt-killed") is None and counter(platform) is None
    assert deliver(body) == (200, "counted")
    assert counter(platform) == {"events": ["evt-killed"], "increments": 1}


def test_a_permanent_failure_writes_only_a_failed_claim(platform: Harness) -> None:
    assert deliver(envelope(platform, "evt-p", "permanent")) == (200, "dead_lettered")
    assert platform.claim_doc("evt-p")["state"] == "failed"
    assert counter(platform) is None and applied(platform) == 0
    assert deliver(envelope(platform, "evt-p", "permanent")) == (200, "duplicate")
    (dead,) = platform.pull(platform.dead_letter_topic(TOPIC))
    assert dead.attributes["failure_reason"] == "told to fail"


def test_a_redriven_failure_runs_again_and_commits_once(platform: Harness) -> None:
    assert deliver(envelope(platform, "evt-r", "permanent")) == (200, "dead_lettered")
    redriven = envelope(platform, "evt-r")
    redriven["message"]["attributes"]["redrive_target"] = platform.subscription(TOPIC)
    assert deliver(redriven) == (200, "counted")
    claim = platform.claim_doc("evt-r")
    assert claim["state"] == "done" and claim["attempts"] == 2
    assert counter(platform) == {"events": ["evt-r"], "increments": 1}
    assert deliver(redriven) == (200, "duplicate")


def test_a_firestore_only_route_cannot_publish(platform: Harness) -> None:
    status, _ = deliver(envelope(platform, "evt-pub", "publish"))
    assert status == 503
    assert platform.claim_doc("evt-pub") is None and applied(platform) == 0


def test_too_many_staged_writes_are_dead_lettered() -> None:
    writes = Writes()
    for _ in range(MAX_WRITES):
        writes.set(object(), {})
    with pytest.raises(TooManyWritesError):
        writes.set(object(), {})


def test_merge_refuses_dotted_field_names() -> None:
    with pytest.raises(ValueError, match="top-level"):
        Writes().merge(object(), {"a.b": 1}, since=None)


def test_an_external_routes_bookkeeping_rides_with_its_completion(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud.firestore_v1.services.firestore import FirestoreClient

    calls: list[str] = []
    original = FirestoreClient.commit

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("commit")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FirestoreClient, "commit", counted)
    data = {"booking_id": "bk-0002", "reason": "full"}
    body = platform.envelope(TOPIC, "booking.rejected", data, event_id="evt-ext")
    assert deliver(body) == (200, "rejected")
    assert calls == ["commit", "commit"]  # the claim's create(), then done + bookkeeping
    assert platform.claim_doc("evt-ext")["state"] == "done"
    document = platform.firestore().collection("bookkeeping").document("bk-0002").get()
    assert document.to_dict() == {"done": True}
