"""The scheduler agent against the emulators and the Calendar sandbox."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from tests.functions.harness import Harness, SimulatedCrash, agent_app, crash_after

pytestmark = pytest.mark.emulator
PROJECT = "demo-scheduler-tests"

REQUESTED = {
    "booking_id": "bk-sched-0001",
    "customer": {"name": "Grace", "phone": "+447700900002", "email": "grace@example.com"},
    "service": "Consultation",
    "starts_at": "2030-03-04T09:00:00+00:00",
    "ends_at": "2030-03-04T10:00:00+00:00",
    "amount_minor": 5000,
    "currency": "gbp",
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "scheduler",
        consumes=("bookings",),
        publishes=("bookings",),
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def requested(harness: Harness, event_id: str = "evt-req-1") -> dict[str, Any]:
    return harness.envelope("bookings", "booking.requested", REQUESTED, event_id=event_id)


def events(harness: Harness) -> dict[str, Any]:
    return harness.sandbox.objects("calendar.events")


def inserts(harness: Harness) -> list[dict[str, Any]]:
    return [
        r
        for r in harness.sandbox.requests("calendar")
        if r["method"] == "POST" and r["path"].endswith("/events")
    ]


def test_free_slot_is_booked_and_confirmed(platform: Harness) -> None:
    response = platform.push(requested(platform))
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "confirmed"
    (event,) = events(platform).values()
    assert event["start"]["dateTime"] == REQUESTED["starts_at"]
    assert set(event["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    (confirmed,) = platform.pull("bookings")
    assert confirmed.attributes["type"] == "booking.confirmed"
    assert confirmed.json()["calendar_event_id"] == event["id"]
    assert confirmed.attributes["causation_id"] == "evt-req-1"


def test_busy_slot_is_rejected_without_an_event(platform: Harness) -> None:
    platform.sandbox.busy("2030-03-04T09:30:00+00:00", "2030-03-04T11:00:00+00:00")
    response = platform.push(requested(platform))
    assert response.json["outcome"] == "rejected"
    assert events(platform) == {}
    (rejected,) = platform.pull("bookings")
    assert rejected.attributes["type"] == "booking.rejected"
    assert rejected.json()["customer"]["phone"] == "+447700900002"


def test_duplicate_delivery_creates_one_event(platform: Harness) -> None:
    assert platform.push(requested(platform)).status_code == 200
    assert platform.push(requested(platform)).json["outcome"] == "duplicate"
    assert len(inserts(platform)) == 1
    assert len(platform.pull("bookings")) == 1


def test_concurrent_deliveries_create_one_event(platform: Harness) -> None:
    app = agent_app("scheduler")
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(platform.push(requested(platform), app.test_client()))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.json["outcome"] for r in results).count("confirmed") == 1
    assert len(inserts(platform)) == 1


def test_crash_after_insert_then_redelivery_confirms_without_a_second_event(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_app("scheduler")
    crash_after(sys.modules["scheduler_calendar"], "insert_event", monkeypatch)
    with pytest.raises(SimulatedCrash):
        platform.push(requested(platform))
    platform.expire_lease("evt-req-1")
    response = platform.push(requested(platform))
    assert response.json["outcome"] == "confirmed"  # not rejected by its own event
    assert len(inserts(platform)) == 1
    assert len(events(platform)) == 1
    (confirmed,) = platform.pull("bookings")
    assert confirmed.attributes["type"] == "booking.confirmed"


def test_transient_calendar_storm_is_retried(platform: Harness) -> None:
    platform.sandbox.fault(service="calendar", kind="status", status=503, count=2)
    platform.sandbox.fault(service="calendar", kind="drop", count=1)
    response = platform.push(requested(platform))
    assert response.status_code == 200, response.data
    assert len(events(platform)) == 1
    assert len(platform.pull("bookings")) == 1


def test_permanent_calendar_error_is_dead_lettered(platform: Harness) -> None:
    platform.sandbox.fault(service="calendar", kind="status", status=403, count=1)
    envelope = requested(platform)
    response = platform.push(envelope)
    assert response.status_code == 200 and response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("bookings"))
    assert dead.json() == REQUESTED
    assert dead.attributes["event_id"] == "evt-req-1"
    assert "google api HTTP 403" in dead.attributes["failure_reason"]
    assert platform.pull("bookings") == []


def test_cancellation_deletes_the_event_once(platform: Harness) -> None:
    platform.push(requested(platform))
    cancel = platform.envelope(
        "bookings", "booking.cancelled", {"booking_id": "bk-sched-0001"}, event_id="evt-cancel-1"
    )
    assert platform.push(cancel).json["outcome"] == "cancelled"
    (event,) = events(platform).values()
    assert event["status"] == "cancelled"
    again = platform.envelope(
        "bookings", "booking.cancelled", {"booking_id": "bk-sched-0001"}, event_id="evt-cancel-2"
    )
    assert platform.push(again).json["outcome"] == "already_gone"
