"""The notifier agent against the emulators and the Twilio sandbox: never two texts."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from tests.functions.harness import Harness, SimulatedCrash, agent_app, crash_after

pytestmark = pytest.mark.emulator
PROJECT = "demo-notifier-tests"

NOTE = {
    "to": "+447700900003",
    "body": "Your booking is confirmed.",
    "purpose": "payment_link",
    "booking_id": "bk-notify-0001",
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators, sandbox_server, PROJECT, "notifier", consumes=("notifications",)
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def note(harness: Harness, event_id: str = "evt-note-1") -> dict[str, Any]:
    return harness.envelope("notifications", "notification.requested", NOTE, event_id=event_id)


def texts(harness: Harness) -> list[dict[str, Any]]:
    return list(harness.sandbox.objects("twilio.messages").values())


def record(harness: Harness, event_id: str = "evt-note-1") -> dict[str, Any]:
    return harness.firestore().collection("notifications").document(event_id).get().to_dict()


def test_sends_one_sms_and_records_its_sid(platform: Harness) -> None:
    response = platform.push(note(platform))
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "sent"
    (text,) = texts(platform)
    assert text["to"] == "+447700900003" and text["from"] == "+15005550006"
    assert text["body"].startswith("Your booking is confirmed.")
    saved = record(platform)
    assert saved["sid"] == text["sid"] and saved["state"] == "sent"
    assert saved["reference"] in text["body"]


def test_duplicate_delivery_sends_nothing(platform: Harness) -> None:
    platform.push(note(platform))
    assert platform.push(note(platform)).json["outcome"] == "duplicate"
    assert len(texts(platform)) == 1


def test_concurrent_deliveries_send_one(platform: Harness) -> None:
    app = agent_app("notifier")
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(platform.push(note(platform), app.test_client()))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.json["outcome"] for r in results].count("sent") == 1
    assert len(texts(platform)) == 1


def test_crash_between_send_and_sid_record_never_texts_twice(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_app("notifier")
    crash_after(sys.modules["notifier_twilio"], "send", monkeypatch)
    with pytest.raises(SimulatedCrash):
        platform.push(note(platform))
    assert record(platform)["state"] == "sending"
    platform.expire_lease("evt-note-1")
    response = platform.push(note(platform))
    assert response.json["outcome"] == "recovered"
    (text,) = texts(platform)
    assert record(platform)["sid"] == text["sid"]


def test_dropped_response_is_looked_up_not_resent(platform: Harness) -> None:
    # Twilio accepted the message but the answer never came: the retry looks it up first.
    platform.sandbox.fault(service="twilio", kind="drop", method="POST", after=True, count=1)
    response = platform.push(note(platform))
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "sent"
    posts = [r for r in platform.sandbox.requests("twilio") if r["method"] == "POST"]
    gets = [r for r in platform.sandbox.requests("twilio") if r["method"] == "GET"]
    assert len(posts) == 1 and posts[0]["dropped"] and len(gets) == 1
    (text,) = texts(platform)
    assert record(platform)["sid"] == text["sid"]


def test_dropped_request_is_looked_up_then_sent_once(platform: Harness) -> None:
    # The connection dropped before Twilio created anything: the lookup finds nothing.
    platform.sandbox.fault(service="twilio", kind="drop", method="POST", count=1)
    response = platform.push(note(platform))
    assert response.status_code == 200, response.data
    posts = [r for r in platform.sandbox.requests("twilio") if r["method"] == "POST"]
    assert len(posts) == 2
    assert len(texts(platform)) == 1


def test_transient_storm_then_one_text(platform: Harness) -> None:
    platform.sandbox.fault(service="twilio", kind="status", status=500, count=2)
    platform.sandbox.fault(service="twilio", kind="status", status=429, count=1)
    response = platform.push(note(platform))
    assert response.status_code == 200, response.data
    assert len(texts(platform)) == 1


def test_permanent_twilio_error_is_dead_lettered(platform: Harness) -> None:
    platform.sandbox.fault(service="twilio", kind="status", status=400, count=1)
    envelope = note(platform)
    response = platform.push(envelope)
    assert response.status_code == 200 and response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("notifications"))
    assert dead.json() == NOTE
    assert dead.attributes["failed_agent"] == "notifier"
    assert "twilio HTTP 400" in dead.attributes["failure_reason"]
    assert texts(platform) == []
