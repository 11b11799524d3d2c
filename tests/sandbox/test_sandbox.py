"""The third-party sandbox: the APIs' subset, idempotency, recording and faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.emulators import free_port
from sandbox import Sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "AC" + "0" * 32
STRIPE_AUTH = {"Authorization": "Bearer sk_test_1"}


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture
def box(server: Sandbox) -> Sandbox:
    server.reset()
    return server


def price(box: Sandbox, key: str | None = None, amount: int = 100) -> requests.Response:
    headers = {**STRIPE_AUTH, **({"Idempotency-Key": key} if key else {})}
    return requests.post(
        f"{box.url}/v1/prices",
        data={"currency": "gbp", "unit_amount": amount, "product_data[name]": "Thing"},
        headers=headers,
        timeout=5,
    )


def test_stripe_idempotency_key_replays_the_first_answer(box: Sandbox) -> None:
    first, second = price(box, "k1"), price(box, "k1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert price(box, "k2").json()["id"] != first.json()["id"]
    assert price(box).json()["id"] != price(box).json()["id"]
    mismatch = price(box, "k1", amount=999)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"]["type"] == "idempotency_error"


def test_stripe_payment_link_needs_a_known_price(box: Sandbox) -> None:
    made = price(box, "p").json()
    link = requests.post(
        f"{box.url}/v1/payment_links",
        data={
            "line_items[0][price]": made["id"],
            "line_items[0][quantity]": "1",
            "metadata[booking_id]": "bk-1",
        },
        headers=STRIPE_AUTH,
        timeout=5,
    )
    assert link.status_code == 200 and link.json()["metadata"] == {"booking_id": "bk-1"}
    bad = requests.post(
        f"{box.url}/v1/payment_links",
        data={"line_items[0][price]": "price_x"},
        headers=STRIPE_AUTH,
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "resource_missing"
    got = requests.get(f"{box.url}/v1/payment_links/{link.json()['id']}", timeout=5)
    assert got.json()["url"] == link.json()["url"]


def test_requests_are_recorded_with_idempotency_keys_and_reset(box: Sandbox) -> None:
    price(box, "rec-1")
    (entry,) = box.requests("stripe")
    assert entry["method"] == "POST" and entry["path"] == "/v1/prices"
    assert entry["headers"]["Idempotency-Key"] == "rec-1"
    assert "unit_amount=100" in entry["body"] and entry["status"] == 200
    assert box.requests("twilio") == []
    box.reset()
    assert box.requests() == []


def test_status_faults_apply_count_times_to_their_service(box: Sandbox) -> None:
    box.fault(service="stripe", kind="status", status=429, retry_after=1, count=2)
    sms = requests.post(
        f"{box.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        data={"To": "+447700900000", "From": "+15005550006", "Body": "hi"},
        timeout=5,
    )
    assert sms.status_code == 201  # another service is untouched
    limited = [price(box) for _ in range(3)]
    assert [r.status_code for r in limited] == [429, 429, 200]
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].json()["error"]["message"].startswith("sandbox fault")
    assert [r.get("fault") for r in box.requests("stripe")] == ["status", "status", None]


def test_slow_and_drop_faults(box: Sandbox) -> None:
    box.fault(service="calendar", kind="slow", seconds=0.5, count=1)
    started = time.monotonic()
    requests.post(f"{box.url}/calendar/v3/freeBusy", json={}, timeout=5)
    assert time.monotonic() - started >= 0.5
    box.fault(kind="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        price(box)
    assert price(box).status_code == 200


def test_drop_after_serving_keeps_the_side_effect(box: Sandbox) -> None:
    box.fault(service="twilio", kind="drop", after=True, count=1)
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{box.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
            data={"To": "+447700900000", "From": "+15005550006", "Body": "hi"},
            timeout=5,
        )
    listed = requests.get(
        f"{box.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        params={"To": "+447700900000"},
        timeout=5,
    ).json()
    assert [m["body"] for m in listed["messages"]] == ["hi"]


def test_bad_fault_is_refused(box: Sandbox) -> None:
    answer = requests.post(f"{box.url}/_sandbox/faults", json={"kind": "explode"}, timeout=5)
    assert answer.status_code == 400


def test_twilio_validates_numbers(box: Sandbox) -> None:
    bad = requests.post(
        f"{box.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        data={"To": "12", "From": "+15005550006", "Body": "hi"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["code"] == 21211


def calendar_event(box: Sandbox, event_id: str) -> requests.Response:
    return requests.post(
        f"{box.url}/calendar/v3/calendars/cal/events",
        json={
            "id": event_id,
            "start": {"dateTime": "2030-01-01T10:00:00Z"},
            "end": {"dateTime": "2030-01-01T11:00:00Z"},
        },
        timeout=5,
    )


def freebusy(box: Sandbox, low: str, high: str) -> list[Any]:
    answer = requests.post(
        f"{box.url}/calendar/v3/freeBusy",
        json={"timeMin": low, "timeMax": high, "items": [{"id": "cal"}]},
        timeout=5,
    )
    return answer.json()["calendars"]["cal"]["busy"]


def test_calendar_ids_conflicts_and_busy_time(box: Sandbox) -> None:
    assert calendar_event(box, "UPPER").status_code == 400
    assert calendar_event(box, "abc").status_code == 400  # too short
    assert calendar_event(box, "abcde0123").status_code == 200
    conflict = calendar_event(box, "abcde0123")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["errors"][0]["reason"] == "duplicate"
    assert len(freebusy(box, "2030-01-01T10:30:00Z", "2030-01-01T12:00:00Z")) == 1
    assert freebusy(box, "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z") == []
    box.busy("2030-01-01T11:30:00+00:00", "2030-01-01T12:30:00+00:00")
    assert len(freebusy(box, "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z")) == 1
    url = f"{box.url}/calendar/v3/calendars/cal/events/abcde0123"
    assert requests.delete(url, timeout=5).status_code == 204
    assert requests.delete(url, timeout=5).status_code == 410
    assert freebusy(box, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z") == []


@pytest.mark.slow
def test_starts_in_one_command_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.strip() == f"sandbox listening on http://127.0.0.1:{port}"
        assert requests.get(f"http://127.0.0.1:{port}/_sandbox/requests", timeout=5).ok
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
