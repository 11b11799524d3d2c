"""Tolerant readers and rolling versions (``events.read``), offline.

Producers stay strict (``validate``); consumers ignore unknown fields within the bounds,
retry a newer ``schema_version``, upgrade an older supported one, refuse a retired one.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field
from switchboard_runtime.envelope import MAX_BODY_BYTES, Event
from switchboard_runtime.errors import PermanentError, TransientError
from switchboard_runtime.events import (
    EVENT_TYPES,
    MAX_DATA_DEPTH,
    EventSpec,
    Schema,
    Version,
    read,
    schema_version,
    validate,
)
from switchboard_runtime.publisher import event_message

CANCELLED = {"booking_id": "bk-0001", "reason": "ill"}


def test_a_reader_ignores_a_field_it_does_not_know() -> None:
    model = read("booking.cancelled", {**CANCELLED, "refund": {"policy": "full"}}, "1")
    assert model.model_dump(exclude_none=True) == CANCELLED


def test_a_producer_still_refuses_it() -> None:
    with pytest.raises(PermanentError, match="refund"):
        validate("booking.cancelled", {**CANCELLED, "refund": "full"})
    with pytest.raises(PermanentError, match="refund"):
        event_message(
            "bookings",
            "booking.cancelled",
            {**CANCELLED, "refund": "full"},
            event_id="e-1",
            source="t",
            correlation_id="",
        )


def test_known_fields_stay_strict_even_nested() -> None:
    with pytest.raises(PermanentError, match="booking_id"):
        read("booking.cancelled", {**CANCELLED, "booking_id": "BAD ID", "extra": 1}, "1")
    confirmed = {
        "booking_id": "bk-0001",
        "customer": {"name": "Ada", "phone": "+447700900001", "tier": "gold"},
        "service": "Haircut",
        "starts_at": "2030-05-06T14:00:00+00:00",
        "ends_at": "2030-05-06T15:00:00+00:00",
        "amount_minor": 2500,
        "currency": "gbp",
        "calendar_event_id": "abcdef",
    }
    assert read("booking.confirmed", confirmed, "1").customer.name == "Ada"  # type: ignore[attr-defined]
    bad_phone = {**confirmed, "customer": {**confirmed["customer"], "phone": "123"}}
    with pytest.raises(PermanentError, match=r"customer\.phone"):
        read("booking.confirmed", bad_phone, "1")


def nested(objects: int) -> Any:
    value: Any = "leaf"
    for _ in range(objects):
        value = {"x": value}
    return value


def test_unknown_fields_are_no_way_around_the_depth_bound() -> None:
    # the data object is level 1; the unknown field's objects are the levels below it
    read("booking.cancelled", {**CANCELLED, "deep": nested(MAX_DATA_DEPTH - 1)}, "1")
    with pytest.raises(PermanentError, match="nested deeper"):
        read("booking.cancelled", {**CANCELLED, "deep": nested(MAX_DATA_DEPTH)}, "1")
    with pytest.raises(PermanentError, match="nested deeper"):
        read("booking.cancelled", {**CANCELLED, "deep": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}, "1")


def test_unknown_fields_are_no_way_around_the_size_bound() -> None:
    import json

    raw = json.dumps({**CANCELLED, "padding": "x" * MAX_BODY_BYTES}).encode()
    event = Event("1", "s", "projects/p/subscriptions/s", {"type": "t", "event_id": "e"}, raw)
    with pytest.raises(PermanentError, match="over"):
        event.require()


def test_json_nested_past_the_parser_is_permanent_not_a_crash() -> None:
    raw = b"[" * 200_000 + b"]" * 200_000
    event = Event("1", "s", "projects/p/subscriptions/s", {"type": "t", "event_id": "e"}, raw)
    with pytest.raises(PermanentError, match="nested"):
        event.json_data()


def test_a_newer_version_is_transient_and_says_why() -> None:
    with pytest.raises(TransientError) as raised:
        read("booking.cancelled", CANCELLED, "2")
    assert "schema_version 2 is newer than this revision reads (v1)" in raised.value.reason
    assert "retrying" in raised.value.reason


@pytest.mark.parametrize("text", ["x", "-1", "1.0", "\uff11", "99999", " 1"])
def test_a_garbled_version_is_permanent(text: str) -> None:
    with pytest.raises(PermanentError, match="not a version number"):
        schema_version(text)


def test_no_version_attribute_means_the_first() -> None:
    assert schema_version(None) == schema_version("") == 1
    assert read("tick", {"target": "reminders"}, None).target == "reminders"  # type: ignore[attr-defined]


class CancelledV1(Schema):
    booking_id: str
    reason: str | None = Field(default=None, max_length=500)


class CancelledV2(Schema):
    booking_id: str
    why: str | None = Field(default=None, max_length=500)


def _rename(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k != "reason"}
    if "reason" in data:
        out["why"] = data["reason"]
    return out


TWO = {
    "booking.cancelled": EventSpec(
        "booking.cancelled",
        "bookings",
        (Version(1, CancelledV1, upgrade=_rename), Version(2, CancelledV2)),
        publishes=1,
    )
}
RETIRED = {
    "booking.cancelled": EventSpec("booking.cancelled", "bookings", (Version(2, CancelledV2),))
}


def test_an_older_supported_version_is_upgraded_on_read() -> None:
    model = read("booking.cancelled", {"booking_id": "bk-1", "reason": "ill", "x": 1}, "1", TWO)
    assert isinstance(model, CancelledV2) and model.why == "ill"
    assert read("booking.cancelled", {"booking_id": "bk-1", "why": "w"}, "2", TWO).why == "w"  # type: ignore[attr-defined]
    assert TWO["booking.cancelled"].version == 1  # producers still stamp v1
    assert TWO["booking.cancelled"].supported == (1, 2)


def test_a_retired_version_is_permanent() -> None:
    with pytest.raises(PermanentError, match="schema_version 1 is retired"):
        read("booking.cancelled", CANCELLED, "1", RETIRED)


def test_the_registry_declares_versions_that_make_sense() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        EventSpec("t", "x", (Version(1, CancelledV1, _rename), Version(3, CancelledV2)))
    with pytest.raises(ValueError, match="upgrade"):
        EventSpec("t", "x", (Version(1, CancelledV1), Version(2, CancelledV2)))
    with pytest.raises(ValueError, match="publishes"):
        EventSpec("t", "x", (Version(1, CancelledV1),), publishes=2)
    for spec in EVENT_TYPES.values():
        assert spec.version in spec.supported
