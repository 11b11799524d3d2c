"""The reminders agent: one notification per upcoming confirmed booking, ever."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functions.harness import Harness, SimulatedCrash, agent_app

pytestmark = pytest.mark.emulator
PROJECT = "demo-reminders-tests"


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "reminders",
        consumes=("ticks",),
        publishes=("notifications",),
        extra_env={"REMINDER_WINDOW_MINUTES": "120"},
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    harness.activate(monkeypatch)
    now = dt.datetime.now(dt.UTC)
    bookings = harness.firestore().collection("bookings")
    seeds = {
        "bk-soon": ("confirmed", now + dt.timedelta(minutes=30)),
        "bk-soon-2": ("confirmed", now + dt.timedelta(minutes=90)),
        "bk-later": ("confirmed", now + dt.timedelta(hours=5)),
        "bk-past": ("confirmed", now - dt.timedelta(minutes=5)),
        "bk-cancelled": ("cancelled", now + dt.timedelta(minutes=30)),
        "bk-requested": ("requested", now + dt.timedelta(minutes=30)),
    }
    for booking_id, (status, starts) in seeds.items():
        bookings.document(booking_id).set(
            {
                "booking_id": booking_id,
                "status": status,
                "starts_at": starts,
                "customer_phone": "+447700900005",
                "customer_name": "Barbara",
                "service": "Lesson",
            }
        )
    yield harness


def tick(harness: Harness, event_id: str) -> Any:
    # Cloud Scheduler ticks carry type and target; the event id may be absent.
    envelope = harness.envelope(
        "ticks", "tick", {}, event_id="", attributes={"target": "reminders"}, message_id=event_id
    )
    envelope["message"]["attributes"].pop("event_id")
    return harness.push(envelope)


def test_tick_reminds_each_upcoming_confirmed_booking_once(platform: Harness) -> None:
    response = tick(platform, "m-1")
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "reminded:2"
    notes = platform.pull("notifications")
    assert sorted(n.json()["booking_id"] for n in notes) == ["bk-soon", "bk-soon-2"]
    assert {n.json()["purpose"] for n in notes} == {"reminder"}
    assert tick(platform, "m-2").json["outcome"] == "reminded:0"
    assert platform.pull("notifications") == []


def test_crash_after_publish_republishes_the_same_event_id(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_app("reminders")
    context_cls = sys.modules["switchboard_runtime.handler"].Context
    original = context_cls.publish
    calls = {"n": 0}

    def publish_then_crash(self: Any, *args: Any, **kwargs: Any) -> str:
        event_id = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise SimulatedCrash("after publish")
        return event_id

    monkeypatch.setattr(context_cls, "publish", publish_then_crash)
    with pytest.raises(SimulatedCrash):
        tick(platform, "m-3")
    platform.expire_lease("tick-m-3")
    assert tick(platform, "m-3").json["outcome"] == "reminded:2"
    notes = platform.pull("notifications")
    # The crashed reminder was published twice with one event id: the notifier dedups.
    assert len(notes) == 3
    assert len({n.attributes["event_id"] for n in notes}) == 2


def test_duplicate_tick_is_acked_without_reminding_again(platform: Harness) -> None:
    assert tick(platform, "m-dup").json["outcome"] == "reminded:2"
    assert tick(platform, "m-dup").json["outcome"] == "duplicate"
    assert len(platform.pull("notifications")) == 2


def test_concurrent_ticks_remind_each_booking_once(platform: Harness) -> None:
    import threading

    app = agent_app("reminders")
    outcomes: list[str] = []

    def deliver(message_id: str) -> None:
        envelope = platform.envelope(
            "ticks", "tick", {}, event_id=f"tick-{message_id}", attributes={"target": "reminders"}
        )
        outcomes.append(platform.push(envelope, app.test_client()).json["outcome"])

    threads = [threading.Thread(target=deliver, args=(f"c-{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(int(o.split(":")[1]) for o in outcomes) == 2, outcomes
    notes = platform.pull("notifications")
    assert sorted(n.json()["booking_id"] for n in notes) == ["bk-soon", "bk-soon-2"]


def test_publish_failure_is_transient_and_retried_later(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_TOPIC_NOTIFICATIONS", "no-such-topic")
    monkeypatch.setenv("SWITCHBOARD_TIMEOUT_SECONDS", "4")
    response = tick(platform, "m-fail")
    assert response.status_code == 503 and response.json["outcome"] == "retry"
    monkeypatch.setenv("SWITCHBOARD_TOPIC_NOTIFICATIONS", "notifications")
    monkeypatch.setenv("SWITCHBOARD_TIMEOUT_SECONDS", "20")
    assert tick(platform, "m-fail").json["outcome"] == "reminded:2"
    assert len(platform.pull("notifications")) == 2


def test_claims_of_other_ticks_are_respected_until_stale(platform: Harness) -> None:
    reminders = platform.firestore().collection("reminders")
    now = dt.datetime.now(dt.UTC)
    reminders.document("bk-soon").set(
        {"state": "claimed", "tick_event_id": "tick-other", "claimed_at": now}
    )
    reminders.document("bk-soon-2").set(
        {
            "state": "claimed",
            "tick_event_id": "tick-dead",
            "claimed_at": now - dt.timedelta(hours=1),
        }
    )
    assert tick(platform, "m-stale").json["outcome"] == "reminded:1"
    (note,) = platform.pull("notifications")
    assert note.json()["booking_id"] == "bk-soon-2"
    assert reminders.document("bk-soon-2").get().to_dict()["state"] == "requested"
