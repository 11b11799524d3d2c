"""Finding 1, the durable half: whatever reaches the notifier, one phone receives at most
the documented number of texts (``notifier_limits.LIMITS``), counted once per
notification, across instances (Firestore)."""

from __future__ import annotations

import datetime as dt
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.functions.harness import Harness, agent_app

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-sms"
PHONE = "+447700900777"


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators, sandbox_server, PROJECT, "notifier", consumes=("notifications",)
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def limits() -> Any:
    agent_app("notifier")
    return sys.modules["notifier_limits"]


def notify(harness: Harness, event_id: str, to: str = PHONE) -> str:
    data = {"to": to, "body": "Your booking is confirmed.", "purpose": "payment_link"}
    envelope = harness.envelope("notifications", "notification.requested", data, event_id=event_id)
    response = harness.push(envelope)
    assert response.status_code == 200, response.data
    return str(response.json["outcome"])


def sent_to(harness: Harness, phone: str) -> int:
    return sum(1 for m in harness.sandbox.objects("twilio.messages").values() if m["to"] == phone)


def test_a_burst_of_100_to_one_phone_sends_at_most_the_hourly_limit(platform: Harness) -> None:
    hourly = limits().LIMITS[0][0]
    outcomes = [notify(platform, f"burst-{i}") for i in range(100)]
    assert outcomes.count("sent") == hourly
    assert outcomes.count("suppressed") == 100 - hourly
    assert sent_to(platform, PHONE) == hourly
    other = "+447700900778"
    assert notify(platform, "another-phone", to=other) == "sent" and sent_to(platform, other) == 1
    suppressed = platform.firestore().collection("notifications").document("burst-99").get()
    assert suppressed.get("state") == "suppressed" and "limit" in suppressed.get("reason")


def test_a_suppressed_notification_stays_suppressed(platform: Harness) -> None:
    hourly = limits().LIMITS[0][0]
    for i in range(hourly + 1):
        notify(platform, f"n-{i}")
    last = f"n-{hourly}"
    platform.firestore().collection("processed_events").document(f"notifier:{last}").delete()
    platform.firestore().collection("sms_limits").document(PHONE).delete()  # the window passed
    assert notify(platform, last) == "suppressed"  # terminal: never sent late
    assert sent_to(platform, PHONE) == hourly


def test_a_redelivered_notification_is_counted_once(platform: Harness) -> None:
    module = limits()
    db = platform.firestore()
    now = dt.datetime.now(dt.UTC)
    assert all(module.admit(db, PHONE, "same-event", now) for _ in range(20))
    document = db.collection("sms_limits").document(PHONE).get().to_dict()
    assert list(document["sent"]) == ["same-event"]


def test_the_daily_limit_holds_across_hours(platform: Harness) -> None:
    module = limits()
    db = platform.firestore()
    start = dt.datetime.now(dt.UTC)
    admitted = [
        module.admit(db, PHONE, f"d-{i}", start + dt.timedelta(minutes=58 * i)) for i in range(24)
    ]
    assert sum(admitted) == module.LIMITS[1][0]


def test_concurrent_admissions_for_one_phone_take_turns_and_never_retry(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 admissions for one phone at once, as a flood delivered concurrently to one
    instance: each transaction begins once (none aborted and retried), and the limit holds."""
    from google.cloud.firestore_v1.transaction import Transaction

    module = limits()
    begun: list[bytes | None] = []
    original = Transaction._begin

    def counted(self: Transaction, retry_id: bytes | None = None) -> None:
        begun.append(retry_id)
        original(self, retry_id)

    monkeypatch.setattr(Transaction, "_begin", counted)
    client = platform.firestore()
    with ThreadPoolExecutor(max_workers=20) as pool:
        admitted = list(
            pool.map(lambda i: module.admit(client, "+447700900779", f"turn-{i}"), range(20))
        )
    assert admitted.count(True) == module.LIMITS[0][0]
    assert begun == [None] * 20, f"{sum(r is not None for r in begun)} transactions retried"
