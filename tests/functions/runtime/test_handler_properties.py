"""Property tests of the agent wrapper, with Firestore and Pub/Sub replaced by memory.

Whatever the body, the handler never raises, and it answers 2xx only for an event it
processed, dead-lettered, or had already processed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchboard_runtime import Agent, Context, PermanentError, TransientError
from switchboard_runtime import idempotency as idem
from switchboard_runtime.events import BookingCancelled

app = flask.Flask(__name__)
processed: list[str] = []
dead_letters: list[tuple[str, bytes, dict[str, str]]] = []
claims: dict[str, str] = {}


class MemoryClaim:
    def __init__(self, agent: str, event_id: str, event_type: str, redrive: bool = False) -> None:
        self.key = f"{agent}:{event_id}"
        self.attempts = 1
        self.redrive = redrive

    def acquire(self) -> idem.ClaimResult:
        state = claims.get(self.key)
        if state == "done" or (state == "failed" and not self.redrive):
            return idem.ClaimResult.DUPLICATE
        if state == "claimed":
            return idem.ClaimResult.BUSY
        claims[self.key] = "claimed"
        return idem.ClaimResult.CLAIMED

    def complete(self, outcome: str = "", writes: Any = None) -> None:
        claims[self.key] = "done"

    def fail(self, reason: str) -> None:
        claims[self.key] = "failed"

    def release(self) -> None:
        claims.pop(self.key, None)


agent = Agent("prop")


@agent.on("booking.cancelled")
def cancelled(ctx: Context[BookingCancelled]) -> str:
    reason = ctx.data.reason or ""
    if reason == "permanent":
        raise PermanentError("told to fail")
    if reason == "transient":
        raise TransientError("try later")
    if reason == "crash":
        raise KeyError("a bug")
    processed.append(ctx.event.event_id)
    return "processed"


@pytest.fixture(autouse=True)
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(idem, "Claim", MemoryClaim)
    from switchboard_runtime import publisher

    def publish_raw(topic: str, data: bytes, attributes: dict[str, str], **_: Any) -> str:
        if topic == "unreachable":
            raise ConnectionError("pubsub down")
        dead_letters.append((topic, data, attributes))
        return "1"

    monkeypatch.setattr(publisher, "publish_raw", publish_raw)
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTERS", json.dumps({"s": "dl", "broken": "unreachable"}))
    processed.clear()
    dead_letters.clear()
    claims.clear()
    yield


def call(body: bytes) -> tuple[int, dict[str, Any]]:
    with app.test_request_context("/", method="POST", data=body):
        text, status, _ = agent.handle(flask.request)
    return status, json.loads(text)


def check(body: bytes) -> None:
    before_processed, before_dead = len(processed), len(dead_letters)
    status, answer = call(body)
    if 200 <= status < 300:
        outcome = answer["outcome"]
        if outcome == "processed":
            assert len(processed) == before_processed + 1
        elif outcome == "dead_lettered":
            assert len(dead_letters) == before_dead + 1
            topic, _, attributes = dead_letters[-1]
            assert topic == "dl" and attributes["failure_reason"]
        else:
            assert outcome == "duplicate"
            assert len(processed) == before_processed
    else:
        assert len(processed) == before_processed


types = st.sampled_from(["booking.cancelled", "booking.requested", "tick", "nope", ""])
reasons = st.sampled_from([None, "ok", "permanent", "transient", "crash"])
data_values = st.one_of(
    st.builds(
        lambda b, r: {"booking_id": b, "reason": r},
        st.sampled_from(["bk-0001", "x", "BK"]),
        reasons,
    ),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.none(),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    attributes = {"type": draw(types), "event_id": draw(st.sampled_from(["e1", "e2", ""]))}
    if draw(st.booleans()):
        attributes.update(
            draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
        )
    payload = draw(data_values)
    raw = draw(st.one_of(st.just(json.dumps(payload).encode()), st.binary(max_size=20)))
    data: Any = base64.b64encode(raw).decode()
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.one_of(st.text(max_size=8), json_values))
    message: dict[str, Any] = {
        "data": data,
        "attributes": attributes,
        "messageId": draw(st.sampled_from(["1", "", 5])),
    }
    envelope: dict[str, Any] = {
        "message": message,
        "subscription": draw(st.sampled_from(["projects/p/subscriptions/s", "s", "broken", ""])),
    }
    if draw(st.integers(0, 5)) == 0:
        envelope = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    return json.dumps(envelope).encode()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_nor_falsely_ack(body: bytes) -> None:
    check(body)


@pytest.mark.slow
@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bodies=st.lists(envelopes(), min_size=1, max_size=4))
def test_envelopes_never_raise_nor_falsely_ack(bodies: list[bytes]) -> None:
    for body in bodies:
        check(body)


def test_transient_failure_releases_the_claim_and_nacks() -> None:
    body = json.dumps(
        {
            "message": {
                "messageId": "1",
                "attributes": {"type": "booking.cancelled", "event_id": "t1"},
                "data": base64.b64encode(
                    b'{"booking_id": "bk-0001", "reason": "transient"}'
                ).decode(),
            },
            "subscription": "s",
        }
    ).encode()
    status, answer = call(body)
    assert (status, answer["outcome"]) == (503, "retry")
    assert "prop:t1" not in claims


def test_dead_letter_publish_failure_is_a_500_never_an_ack() -> None:
    body = json.dumps(
        {
            "message": {
                "messageId": "1",
                "attributes": {"type": "booking.cancelled", "event_id": "t2"},
                "data": base64.b64encode(
                    b'{"booking_id": "bk-0001", "reason": "permanent"}'
                ).decode(),
            },
            "subscription": "projects/p/subscriptions/broken",
        }
    ).encode()
    status, answer = call(body)
    assert (status, answer["outcome"]) == (500, "dead_letter_failed")
    assert "prop:t2" not in claims


def test_unmapped_subscription_is_never_acked() -> None:
    body = json.dumps(
        {
            "message": {"messageId": "1", "attributes": {"type": "nope", "event_id": "t3"}},
            "subscription": "projects/p/subscriptions/unknown",
        }
    ).encode()
    assert call(body)[0] == 500


def test_get_is_refused() -> None:
    with app.test_request_context("/", method="GET"):
        assert agent.handle(flask.request)[1] == 405


def test_oversized_data_is_dead_lettered_intact() -> None:
    data = b'{"booking_id": "bk-0001", "reason": "' + b"x" * (1024 * 1024) + b'"}'
    body = json.dumps(
        {
            "message": {
                "messageId": "1",
                "attributes": {"type": "booking.cancelled", "event_id": "big"},
                "data": base64.b64encode(data).decode(),
            },
            "subscription": "projects/p/subscriptions/s",
        }
    ).encode()
    status, answer = call(body)
    assert (status, answer["outcome"]) == (200, "dead_lettered")
    (topic, published, attributes) = dead_letters[-1]
    assert topic == "dl"
    assert published == data and attributes["event_id"] == "big"
    assert "over" in attributes["failure_reason"]
    assert processed == []
