"""The ledger agent: append-once record and an order-tolerant booking projection."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.functions.harness import Harness, agent_app

pytestmark = pytest.mark.emulator
PROJECT = "demo-ledger-tests"
BOOKING = "bk-ledger-0001"
CUSTOMER = {"name": "Linus", "phone": "+447700900004"}
SLOT = {"starts_at": "2030-05-06T14:00:00+00:00", "ends_at": "2030-05-06T15:00:00+00:00"}
REQUESTED = {
    "booking_id": BOOKING,
    "customer": CUSTOMER,
    "service": "Massage",
    **SLOT,
    "amount_minor": 4000,
    "currency": "gbp",
}
CONFIRMED = {**REQUESTED, "calendar_event_id": "0123456789abcdefghij"}
LINK = {
    "booking_id": BOOKING,
    "payment_link_id": "plink_1",
    "url": "https://pay.example/plink_1",
    "amount_minor": 4000,
    "currency": "gbp",
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "ledger",
        consumes=("bookings", "payments", "notifications", "inbound"),
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def deliver(harness: Harness, topic: str, event_type: str, data: Any, event_id: str) -> str:
    response = harness.push(harness.envelope(topic, event_type, data, event_id=event_id))
    assert response.status_code == 200, response.data
    return response.json["outcome"]


def projection(harness: Harness) -> dict[str, Any]:
    return harness.firestore().collection("bookings").document(BOOKING).get().to_dict()


def test_out_of_order_events_give_the_same_projection(platform: Harness) -> None:
    deliver(platform, "payments", "payment.link_created", LINK, "e-link")
    deliver(platform, "bookings", "booking.confirmed", CONFIRMED, "e-confirmed")
    deliver(platform, "bookings", "booking.requested", REQUESTED, "e-requested")
    booking = projection(platform)
    assert booking["status"] == "confirmed"  # requested after confirmed does not go back
    assert booking["customer_phone"] == "+447700900004"
    assert booking["payment_link_url"] == "https://pay.example/plink_1"
    assert booking["calendar_event_id"] == "0123456789abcdefghij"
    assert booking["starts_at"].isoformat() == "2030-05-06T14:00:00+00:00"
    ledger = platform.firestore().collection("ledger").stream()
    assert sorted(doc.id for doc in ledger) == ["e-confirmed", "e-link", "e-requested"]


def test_duplicate_and_concurrent_deliveries_append_once(platform: Harness) -> None:
    app = agent_app("ledger")
    envelope = platform.envelope("bookings", "booking.requested", REQUESTED, event_id="e-dup")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(platform.push(envelope, app.test_client())))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert platform.push(envelope).json["outcome"] == "duplicate"
    assert [r.json["outcome"] for r in results].count("recorded") == 1
    assert len(list(platform.firestore().collection("ledger").stream())) == 1
    assert projection(platform)["applied_events"] == ["e-dup"]


def test_cancellation_wins_and_payment_and_reminder_are_projected(platform: Harness) -> None:
    deliver(platform, "bookings", "booking.requested", REQUESTED, "e-1")
    deliver(platform, "bookings", "booking.cancelled", {"booking_id": BOOKING}, "e-2")
    deliver(platform, "bookings", "booking.confirmed", CONFIRMED, "e-3")
    paid = {"payment_id": "cs_1", "booking_id": BOOKING, "amount_minor": 4000, "currency": "gbp"}
    deliver(platform, "payments", "payment.recorded", paid, "e-4")
    reminder = {"to": "+447700900004", "body": "soon", "purpose": "reminder", "booking_id": BOOKING}
    deliver(platform, "notifications", "notification.requested", reminder, "e-5")
    booking = projection(platform)
    assert booking["status"] == "cancelled"
    assert booking["paid"] is True and booking["payment_id"] == "cs_1"
    assert booking["reminder_requested_at"] is not None
    assert booking["notifications"] == 1


def test_inbound_sms_is_recorded_without_a_booking(platform: Harness) -> None:
    sms = {
        "message_sid": "SM" + "1" * 32,
        "from_number": "+447700900004",
        "to_number": "+15005550006",
        "body": "hello",
    }
    assert deliver(platform, "inbound", "sms.received", sms, "e-sms") == "recorded"
    entry = platform.firestore().collection("ledger").document("e-sms").get().to_dict()
    assert entry["data"]["body"] == "hello" and entry["booking_id"] is None


def test_tick_is_not_for_the_ledger(platform: Harness) -> None:
    response = platform.push(platform.envelope("bookings", "tick", {}, event_id="tick-1"))
    assert response.status_code == 200 and response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("bookings"))
    assert "does not handle 'tick'" in dead.attributes["failure_reason"]


def test_invalid_event_is_dead_lettered_and_not_recorded(platform: Harness) -> None:
    bad = {**REQUESTED, "starts_at": "2030-05-06T14:00:00"}  # no timezone
    envelope = platform.envelope("bookings", "booking.requested", bad, event_id="e-bad")
    response = platform.push(envelope)
    assert response.status_code == 200 and response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("bookings"))
    assert dead.json() == bad and "starts_at" in dead.attributes["failure_reason"]
    assert dead.attributes["failed_subscription"] == "ledger-bookings"
    assert list(platform.firestore().collection("ledger").stream()) == []
