"""Finding 6: one payment is recorded once, whichever of Stripe's events report it, and
``checkout.session.async_payment_succeeded`` counts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.adversarial.gateway import fresh_instance, gateway_harness
from tests.functions.adversarial.test_webhooks import event, post_signed, session
from tests.functions.harness import Harness, agent_app

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-payments"
INTENT = {
    "id": "pi_test_adv",
    "object": "payment_intent",
    "amount_received": 2500,
    "currency": "gbp",
    "metadata": {"booking_id": "bk-0123456789abcdef0123"},
}


@pytest.fixture(scope="module")
def gateway(emulators: Any, sandbox_server: Any) -> Harness:
    return gateway_harness(emulators, sandbox_server, PROJECT)


@pytest.fixture(scope="module")
def billing(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT + "-billing",
        "billing",
        consumes=("bookings", "payments"),
        publishes=("payments", "notifications"),
    )


def both_webhooks(gateway: Harness, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    fresh_instance()
    gateway.activate(monkeypatch)
    client = agent_app("gateway").test_client()
    completed = event(session(customer_details={"phone": "+447700900006"}), id="evt_cs_1")
    succeeded = event(INTENT, "payment_intent.succeeded", id="evt_pi_1")
    assert post_signed(client, completed).status_code == 200
    assert post_signed(client, succeeded).status_code == 200
    assert post_signed(client, completed).status_code == 200  # Stripe's retry
    return gateway.pull("payments")


def test_both_stripe_events_of_one_payment_name_the_same_payment(
    gateway: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = both_webhooks(gateway, monkeypatch)
    assert {m.json()["payment_id"] for m in published} == {"pi_test_adv"}
    assert len({m.attributes["event_id"] for m in published}) == 2  # a retry is the same event


def test_one_payment_is_recorded_once_with_one_receipt(
    gateway: Harness, billing: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = both_webhooks(gateway, monkeypatch)
    billing.activate(monkeypatch)
    outcomes = []
    for message in published:
        envelope = billing.envelope(
            "payments",
            "payment.received",
            message.json(),
            event_id=message.attributes["event_id"],
        )
        response = billing.push(envelope)
        assert response.status_code == 200, response.data
        outcomes.append(response.json["outcome"])
    assert sorted(outcomes) == ["already_recorded", "duplicate", "recorded"]
    payments = list(billing.firestore().collection("payments").stream())
    assert [p.id for p in payments] == ["pi_test_adv"]
    recorded = [m for m in billing.pull("payments") if m.attributes["type"] == "payment.recorded"]
    receipts = billing.pull("notifications")
    assert len(recorded) == 1 and len(receipts) == 1
    assert receipts[0].json()["purpose"] == "payment_receipt"


def test_a_redelivery_of_the_recording_event_publishes_the_same_follow_ups(
    billing: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(A crash after recording: its redelivery must still publish, with the same ids.)"""
    billing.activate(monkeypatch)
    data = {
        "provider": "stripe",
        "provider_event_id": "evt_cs_2",
        "provider_event_type": "checkout.session.completed",
        "payment_id": "pi_test_two",
        "amount_minor": 100,
        "currency": "gbp",
        "customer_phone": "+447700900006",
    }
    first = billing.push(billing.envelope("payments", "payment.received", data, event_id="p-1"))
    assert first.json["outcome"] == "recorded"
    ids = {
        m.attributes["event_id"] for m in billing.pull("payments") + billing.pull("notifications")
    }
    billing.firestore().collection("processed_events").document("billing:p-1").delete()
    again = billing.push(billing.envelope("payments", "payment.received", data, event_id="p-1"))
    assert again.json["outcome"] == "recorded"
    repeated = billing.pull("payments") + billing.pull("notifications")
    assert {m.attributes["event_id"] for m in repeated} == ids


def test_async_payment_succeeded_is_a_payment(
    gateway: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_instance()
    gateway.activate(monkeypatch)
    client = agent_app("gateway").test_client()
    unpaid = event(session(payment_status="unpaid"), id="evt_async_0")
    assert post_signed(client, unpaid).json == {"ignored": "checkout session not paid"}
    paid = event(session(), "checkout.session.async_payment_succeeded", id="evt_async_1")
    response = post_signed(client, paid)
    assert response.status_code == 200, response.data
    (message,) = gateway.pull("payments")
    assert message.json()["provider_event_type"] == "checkout.session.async_payment_succeeded"
    assert message.json()["payment_id"] == "pi_test_adv"
