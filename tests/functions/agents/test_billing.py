"""The billing agent against the Firestore and Pub/Sub emulators and the Stripe sandbox."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from tests.functions.harness import Harness, SimulatedCrash, agent_app, crash_after

pytestmark = pytest.mark.emulator
PROJECT = "demo-billing-tests"

CONFIRMED = {
    "booking_id": "bk-billing-0001",
    "customer": {"name": "Ada", "phone": "+447700900001"},
    "service": "Haircut",
    "starts_at": "2030-01-02T10:00:00+00:00",
    "ends_at": "2030-01-02T11:00:00+00:00",
    "amount_minor": 2500,
    "currency": "gbp",
    "calendar_event_id": "abcdefghij0123456789",
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "billing",
        consumes=("bookings", "payments"),
        publishes=("payments", "notifications"),
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def confirmed(harness: Harness, event_id: str = "evt-confirmed-1") -> dict[str, Any]:
    return harness.envelope("bookings", "booking.confirmed", CONFIRMED, event_id=event_id)


def links(harness: Harness) -> dict[str, Any]:
    return harness.sandbox.objects("stripe.payment_links")


def test_confirmed_booking_gets_one_payment_link_and_sms(platform: Harness) -> None:
    response = platform.push(confirmed(platform))
    assert response.status_code == 200, response.data
    assert response.json["outcome"] == "link_created"
    (link,) = links(platform).values()
    assert link["metadata"] == {"booking_id": "bk-billing-0001"}
    posts = [r for r in platform.sandbox.requests("stripe") if r["method"] == "POST"]
    assert [r["headers"]["Idempotency-Key"] for r in posts] == [
        "evt-confirmed-1:price",
        "evt-confirmed-1:payment-link",
    ]
    (created,) = platform.pull("payments")
    assert created.attributes["type"] == "payment.link_created"
    assert created.attributes["causation_id"] == "evt-confirmed-1"
    assert created.attributes["correlation_id"] == "corr-evt-confirmed-1"
    assert created.attributes["source"] == "billing"
    assert created.json()["url"] == link["url"]
    (sms,) = platform.pull("notifications")
    assert sms.json()["to"] == "+447700900001"
    assert link["url"] in sms.json()["body"]
    assert platform.claim_doc("evt-confirmed-1")["state"] == "done"


def test_duplicate_delivery_has_no_second_side_effect(platform: Harness) -> None:
    assert platform.push(confirmed(platform)).status_code == 200
    again = platform.push(confirmed(platform))
    assert again.status_code == 200
    assert again.json["outcome"] == "duplicate"
    assert len(platform.sandbox.requests("stripe")) == 2
    assert len(platform.pull("payments")) == 1


def test_concurrent_deliveries_make_one_link(platform: Harness) -> None:
    app = agent_app("billing")
    results: list[Any] = []

    def deliver() -> None:
        results.append(platform.push(confirmed(platform), app.test_client()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(r.json["outcome"] for r in results)
    assert "link_created" in outcomes
    assert set(outcomes) <= {"link_created", "busy", "duplicate"}
    assert len(links(platform)) == 1


def test_crash_after_stripe_call_then_redelivery_creates_no_second_link(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent_app("billing")
    crash_after(sys.modules["billing_stripe"], "create_payment_link", monkeypatch)
    with pytest.raises(SimulatedCrash):
        platform.push(confirmed(platform))
    assert platform.claim_doc("evt-confirmed-1")["state"] == "claimed"
    busy = platform.push(confirmed(platform))
    assert busy.status_code == 503 and busy.json["outcome"] == "busy"
    platform.expire_lease("evt-confirmed-1")
    redelivered = platform.push(confirmed(platform))
    assert redelivered.status_code == 200, redelivered.data
    assert len(links(platform)) == 1  # Stripe replayed the idempotent answer
    replayed = platform.sandbox.requests("stripe")
    assert len({r["headers"]["Idempotency-Key"] for r in replayed}) == 2
    assert platform.claim_doc("evt-confirmed-1")["attempts"] == 2
    (created,) = platform.pull("payments")
    assert created.attributes["type"] == "payment.link_created"


def test_transient_storm_is_retried_and_processed_once(platform: Harness) -> None:
    platform.sandbox.fault(service="stripe", kind="status", status=429, retry_after=0.1, count=2)
    platform.sandbox.fault(service="stripe", kind="status", status=503, count=1)
    response = platform.push(confirmed(platform))
    assert response.status_code == 200, response.data
    assert len(links(platform)) == 1
    statuses = [r["status"] for r in platform.sandbox.requests("stripe")]
    assert statuses == [429, 429, 503, 200, 200]
    assert len(platform.pull("payments")) == 1


def test_storm_longer_than_the_budget_is_nacked_and_released(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_TIMEOUT_SECONDS", "4")
    platform.sandbox.fault(service="stripe", kind="status", status=500, count=1000)
    response = platform.push(confirmed(platform))
    assert response.status_code == 503
    assert response.json["outcome"] == "retry"
    assert platform.claim_doc("evt-confirmed-1") is None  # released for the next delivery
    assert platform.pull("payments") == []


def test_permanent_failure_is_acked_and_dead_lettered_intact(platform: Harness) -> None:
    platform.sandbox.fault(service="stripe", kind="status", status=400, count=1)
    envelope = confirmed(platform)
    response = platform.push(envelope)
    assert response.status_code == 200
    assert response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("bookings"))
    original = envelope["message"]["attributes"]
    assert {k: dead.attributes[k] for k in original} == original
    assert dead.attributes["failed_agent"] == "billing"
    assert dead.attributes["failed_subscription"] == "billing-bookings"
    assert "stripe HTTP 400" in dead.attributes["failure_reason"]
    assert dead.json() == CONFIRMED
    assert platform.claim_doc("evt-confirmed-1")["state"] == "failed"
    assert platform.pull("payments") == []
    assert platform.push(envelope).json["outcome"] == "duplicate"


def test_redriven_failure_runs_again_once_and_a_done_event_never_does(
    platform: Harness,
) -> None:
    platform.sandbox.fault(service="stripe", kind="status", status=400, count=1)
    assert platform.push(confirmed(platform)).json["outcome"] == "dead_lettered"
    platform.pull(platform.dead_letter_topic("bookings"))
    # the operator fixed the cause (the fault is gone) and redrove the dead letter
    redriven = platform.envelope(
        "bookings",
        "booking.confirmed",
        CONFIRMED,
        event_id="evt-confirmed-1",
        attributes={"redrive_target": "billing-bookings", "redrive_count": "1"},
    )
    response = platform.push(redriven)
    assert response.status_code == 200 and response.json["outcome"] != "duplicate"
    assert len(links(platform)) == 1
    assert platform.claim_doc("evt-confirmed-1")["state"] == "done"
    # a second redrive of the same (now done) event has no side effect
    assert platform.push(redriven).json["outcome"] == "duplicate"
    assert len(links(platform)) == 1


def test_payment_received_is_recorded_once(platform: Harness) -> None:
    received = {
        "provider": "stripe",
        "provider_event_id": "evt_stripe_1",
        "provider_event_type": "checkout.session.completed",
        "payment_id": "cs_test_1",
        "booking_id": "bk-billing-0001",
        "amount_minor": 2500,
        "currency": "gbp",
        "customer_phone": "+447700900001",
    }
    envelope = platform.envelope("payments", "payment.received", received, event_id="evt-paid-1")
    assert platform.push(envelope).status_code == 200
    assert platform.push(envelope).json["outcome"] == "duplicate"
    doc = platform.firestore().collection("payments").document("cs_test_1").get().to_dict()
    assert doc["amount_minor"] == 2500 and doc["booking_id"] == "bk-billing-0001"
    (recorded,) = platform.pull("payments")
    assert recorded.attributes["type"] == "payment.recorded"
    (receipt,) = platform.pull("notifications")
    assert receipt.json()["purpose"] == "payment_receipt"


def test_invalid_data_is_dead_lettered_without_side_effects(platform: Harness) -> None:
    bad = {**CONFIRMED, "amount_minor": -5}
    response = platform.push(
        platform.envelope("bookings", "booking.confirmed", bad, event_id="evt-bad")
    )
    assert response.status_code == 200 and response.json["outcome"] == "dead_lettered"
    (dead,) = platform.pull(platform.dead_letter_topic("bookings"))
    assert "amount_minor" in dead.attributes["failure_reason"]
    assert platform.sandbox.requests("stripe") == []
