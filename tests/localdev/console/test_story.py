"""One event's story: what it reaches, and the timeline."""

from __future__ import annotations

import datetime as dt
import json

from localdev.console.sandbox_view import mentions, redact
from localdev.console.story import build_story, document_keys, scope
from localdev.console.tap import TappedMessage


def message(
    event_id: str,
    event_type: str,
    *,
    correlation: str,
    causation: str = "",
    booking: str | None = None,
    at: str = "2026-12-01T10:00:00+00:00",
) -> TappedMessage:
    data = json.dumps({"booking_id": booking} if booking else {"target": "reminders"}).encode()
    attributes = {
        "type": event_type,
        "event_id": event_id,
        "correlation_id": correlation,
        "causation_id": causation,
    }
    return TappedMessage("bookings", f"m-{event_id}", attributes, data, len(data), at)


REQUESTED = message("req", "booking.requested", correlation="req", booking="bk-one")
CONFIRMED = message(
    "conf", "booking.confirmed", correlation="req", causation="req", booking="bk-one"
)
PAID = message("paid", "payment.received", correlation="paid", booking="bk-one")
RECORDED = message(
    "rec", "payment.recorded", correlation="paid", causation="paid", booking="bk-one"
)
THANKS = message("thx", "notification.requested", correlation="paid", causation="rec")
TICK = message("tick", "tick", correlation="tick")
REMIND_ONE = message(
    "r1", "reminder.requested", correlation="tick", causation="tick", booking="bk-one"
)
REMIND_TWO = message(
    "r2", "reminder.requested", correlation="tick", causation="tick", booking="bk-two"
)
OTHER = message("req2", "booking.requested", correlation="req2", booking="bk-two")
FLEET = [REQUESTED, CONFIRMED, PAID, RECORDED, THANKS, TICK, REMIND_ONE, REMIND_TWO, OTHER]


def test_a_correlation_reaches_the_whole_booking_and_nothing_else() -> None:
    found = scope("req", FLEET, [])
    assert found.event_ids == {"req", "conf", "paid", "rec", "thx", "r1", "tick"}
    assert found.booking_ids == {"bk-one"}
    assert "tick" not in found.correlation_ids  # the tick also reminded bk-two: not followed


def test_any_event_of_the_story_leads_to_the_same_story() -> None:
    assert scope("thx", FLEET, []).event_ids == scope("req", FLEET, []).event_ids
    assert scope("m-conf", FLEET, []).event_ids == scope("req", FLEET, []).event_ids


def test_an_unknown_id_reaches_nothing_and_trace_only_events_count() -> None:
    assert scope("nope", FLEET, []).event_ids == set()
    trace = [{"event_id": "lost", "correlation_id": "c9", "outcome": "retry"}]
    assert scope("c9", FLEET, trace).event_ids == {"lost"}


def test_the_timeline_is_in_time_order_with_the_calls_the_documents_name() -> None:
    found = scope("req", FLEET, [])
    trace = [
        {
            "event_id": "req",
            "agent": "scheduler",
            "outcome": "acked",
            "at": "2026-12-01T10:00:02+00:00",
        },
        {
            "event_id": "req2",
            "agent": "scheduler",
            "outcome": "acked",
            "at": "2026-12-01T10:00:03+00:00",
        },
    ]
    documents = [
        {
            "collection": "notifications",
            "id": "thx",
            "path": "notifications/thx",
            "fields": {"reference": "ABCD1234", "booking_id": "bk-one", "state": "sent"},
            "update_time": "2026-12-01T10:00:05+00:00",
        }
    ]
    sms = redact(
        {
            "service": "twilio",
            "method": "POST",
            "path": "/2010-04-01/Accounts/AC1/Messages.json",
            "body": "To=%2B447700900123&Body=Thank+you%0ARef+ABCD1234",
            "headers": {"Authorization": "Basic c2VjcmV0"},
            "time": dt.datetime(2026, 12, 1, 10, 0, 4, tzinfo=dt.UTC).timestamp(),
            "status": 201,
        }
    )
    unrelated = redact({"service": "twilio", "path": "/x", "body": "Body=Hi+Bob", "time": 1.0})
    story = build_story("req", found, FLEET, trace, [], documents, [sms, unrelated])
    kinds = [(entry["kind"], entry["at"][11:19]) for entry in story["timeline"]]
    assert kinds[-3:] == [("delivery", "10:00:02"), ("call", "10:00:04"), ("document", "10:00:05")]
    assert story["counts"]["calls"] == 1
    assert story["counts"]["deliveries"] == 1  # not the other booking's
    call = next(e["item"] for e in story["timeline"] if e["kind"] == "call")
    assert "Thank you\nRef ABCD1234" in call["body"]
    assert call["headers"]["Authorization"] == "(redacted)"
    assert {e["event_id"] for e in story["events"]} == found.event_ids


def test_calls_match_on_ids_not_on_short_fragments() -> None:
    call = {"path": "/v1/payment_links", "body": "metadata[booking_id]=bk-one", "headers": {}}
    assert mentions(call, {"bk-one"})
    assert not mentions(call, {"bk"})  # too short to mean anything
    keyed = {"path": "/v1/prices", "body": "", "headers": {"Idempotency-Key": "conf:price"}}
    assert mentions(keyed, {"conf:price"})
    assert document_keys([{"fields": {"sid": "SM1234567", "status": "sent", "n": 3}}]) == {
        "SM1234567"
    }
