"""Parsing the wrapped push body."""

from __future__ import annotations

import base64
import json

import pytest
from switchboard_runtime.envelope import (
    MAX_BODY_BYTES,
    EnvelopeError,
    encode_envelope,
    parse_envelope,
)
from switchboard_runtime.errors import PermanentError

ATTRS = {
    "type": "booking.cancelled",
    "event_id": "e-1",
    "source": "gateway",
    "correlation_id": "c-1",
    "causation_id": "x-0",
}


def test_parses_every_field() -> None:
    body = encode_envelope(
        b'{"booking_id": "bk-1"}',
        ATTRS,
        subscription="projects/p/subscriptions/scheduler-bookings",
        message_id="42",
        delivery_attempt=3,
    )
    event = parse_envelope(body)
    assert event.message_id == "42"
    assert event.subscription == "scheduler-bookings"
    assert event.subscription_path == "projects/p/subscriptions/scheduler-bookings"
    assert (event.type, event.event_id, event.source) == ("booking.cancelled", "e-1", "gateway")
    assert (event.correlation_id, event.causation_id) == ("c-1", "x-0")
    assert event.delivery_attempt == 3
    assert event.publish_time == "2026-01-01T00:00:00Z"
    assert event.json_data() == {"booking_id": "bk-1"}
    event.require()


def test_correlation_defaults_to_the_event_id() -> None:
    event = parse_envelope(encode_envelope(b"{}", {"type": "tick", "event_id": "e-9"}))
    assert event.correlation_id == "e-9" and event.causation_id == ""


def test_tick_without_event_id_uses_the_message_id() -> None:
    event = parse_envelope(encode_envelope(b"", {"type": "tick"}, message_id="77"))
    assert event.event_id == "tick-77"
    assert event.json_data() == {}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"subscription": "projects/p/subscriptions/s"}',
        b'{"message": {"messageId": "1"}}',
        b'{"message": "x", "subscription": "s"}',
        b'{"message": {"data": ""}, "subscription": "s"}',
        b'{"message": {"messageId": "1", "attributes": {"a": 1}}, "subscription": "s"}',
        b'{"message": {"messageId": "1"}, "subscription": ""}',
    ],
)
def test_what_is_not_an_envelope_is_refused(body: bytes) -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(body)


def test_bad_base64_is_permanent_and_keeps_the_original_text() -> None:
    body = json.dumps(
        {
            "message": {"messageId": "1", "data": "@@not base64@@", "attributes": ATTRS},
            "subscription": "s",
        }
    ).encode()
    event = parse_envelope(body)
    with pytest.raises(PermanentError, match="base64"):
        event.require()
    assert event.raw_data == b"@@not base64@@"


def test_malformed_json_data_is_permanent() -> None:
    event = parse_envelope(encode_envelope(b"{oops", ATTRS))
    event.require()
    with pytest.raises(PermanentError, match="not JSON"):
        event.json_data()


@pytest.mark.parametrize("missing", ["type", "event_id"])
def test_missing_attributes_are_permanent(missing: str) -> None:
    attrs = {k: v for k, v in ATTRS.items() if k != missing}
    with pytest.raises(PermanentError, match=missing):
        parse_envelope(encode_envelope(b"{}", attrs)).require()


def test_oversized_data_is_permanent() -> None:
    event = parse_envelope(encode_envelope(b"x" * (MAX_BODY_BYTES + 1), ATTRS))
    with pytest.raises(PermanentError, match="over"):
        event.require()


def test_data_may_be_absent() -> None:
    body = json.dumps(
        {
            "message": {"messageId": "1", "attributes": ATTRS},
            "subscription": "projects/p/subscriptions/s",
        }
    ).encode()
    assert parse_envelope(body).raw_data == b""
    assert base64.b64encode(b"") == b""


@pytest.mark.parametrize(
    ("event_id", "says"),
    [
        ("evt/a", "not 1-128"),
        ("__x__", "not 1-128"),
        ("..", "not 1-128"),
        ("x" * 1500, "1500 chars is over 128"),
        ("x" * 129, "129 chars is over 128"),
    ],
)
def test_event_ids_firestore_would_reject_or_alias_are_permanent(event_id: str, says: str) -> None:
    event = parse_envelope(encode_envelope(b"{}", {**ATTRS, "event_id": event_id}))
    with pytest.raises(PermanentError, match=says) as raised:
        event.require()
    assert len(raised.value.reason) < 200


@pytest.mark.parametrize(
    "event_id", ["evt_a", "evt-a", "e1", "x" * 128, "6f0b8a52-3c1e-4d5e-9a4f-2b7d9c1e0f11"]
)
def test_event_ids_of_the_fleet_are_accepted(event_id: str) -> None:
    parse_envelope(encode_envelope(b"{}", {**ATTRS, "event_id": event_id})).require()
