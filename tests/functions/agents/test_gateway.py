"""The gateway: booking API validation, and verified Stripe and Twilio webhooks."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Any

import pytest

from tests.functions.harness import SECRETS, Harness, agent_app, api_headers, stripe_signature

pytestmark = pytest.mark.emulator
PROJECT = "demo-gateway-tests"
PUBLIC = "https://gateway.example.com"
STARTS = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(
    minute=0, second=0, microsecond=0
)
KEYED = api_headers(**{"Idempotency-Key": "k-1"})
BOOKING = {
    "customer": {"name": "Alan", "phone": "+447700900006"},
    "service": "Tuning",
    "starts_at": STARTS.isoformat(),
    "ends_at": (STARTS + dt.timedelta(hours=1)).isoformat(),
    "amount_minor": 9900,
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "gateway",
        publishes=("bookings", "payments", "inbound"),
        extra_env={"SWITCHBOARD_PUBLIC_URL": PUBLIC, "BOOKING_CURRENCY": "gbp"},
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    forget_limits()
    return harness.activate(monkeypatch)


def forget_limits() -> None:
    """A fresh instance's limits: the gateway's in-memory buckets and key memory."""
    bookings = sys.modules.get("gateway_bookings")
    if bookings is not None:
        bookings.limiter.clear()
        bookings.remembered.clear()


@pytest.fixture
def client() -> Any:
    return agent_app("gateway").test_client()


def stripe_event(event_id: str = "evt_1NpaidX") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": "cs_test_123",
                    "object": "checkout.session",
                    "amount_total": 9900,
                    "currency": "gbp",
                    "payment_status": "paid",
                    "metadata": {"booking_id": "bk-0123456789abcdef0123"},
                    "customer_details": {"phone": "+447700900006"},
                }
            },
        }
    ).encode()


def test_booking_request_is_published(platform: Harness, client: Any) -> None:
    response = client.post("/bookings", json=BOOKING, headers=KEYED)
    assert response.status_code == 202, response.data
    (message,) = platform.pull("bookings")
    assert message.attributes["type"] == "booking.requested"
    assert message.attributes["event_id"] == response.json["event_id"]
    assert message.attributes["causation_id"] == ""
    assert message.json()["booking_id"] == response.json["booking_id"]
    assert message.json()["currency"] == "gbp"
    again = client.post("/bookings", json=BOOKING, headers=KEYED)
    assert again.json == response.json  # a retried request publishes the same event


def test_invalid_booking_gets_field_errors_and_publishes_nothing(
    platform: Harness, client: Any
) -> None:
    bad = {**BOOKING, "customer": {"name": "Alan", "phone": "07700"}, "amount_minor": 0}
    response = client.post("/bookings", json=bad, headers=api_headers())
    assert response.status_code == 400
    fields = {e["field"] for e in response.json["errors"]}
    assert {"customer.phone", "amount_minor"} <= fields
    assert client.post("/bookings", data="not json", headers=api_headers()).status_code == 400
    assert platform.pull("bookings") == []


def test_signed_stripe_webhook_becomes_payment_received(platform: Harness, client: Any) -> None:
    payload = stripe_event()
    signature = stripe_signature(payload, SECRETS["STRIPE_WEBHOOK_SECRET"])
    response = client.post(
        "/stripe",
        data=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.data
    (message,) = platform.pull("payments")
    assert message.attributes["type"] == "payment.received"
    data = message.json()
    assert data["provider_event_id"] == "evt_1NpaidX"
    assert data["amount_minor"] == 9900 and data["booking_id"] == "bk-0123456789abcdef0123"
    replay = client.post("/stripe", data=payload, headers={"Stripe-Signature": signature})
    (again,) = platform.pull("payments")
    assert replay.status_code == 200
    assert again.attributes["event_id"] == message.attributes["event_id"]


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "t=1,v1=deadbeef",
        stripe_signature(stripe_event(), "whsec_wrong_secret"),
        stripe_signature(stripe_event(), SECRETS["STRIPE_WEBHOOK_SECRET"], int(time.time()) - 3600),
    ],
    ids=["missing", "garbage", "wrong-secret", "stale"],
)
def test_forged_stripe_webhook_is_refused(platform: Harness, client: Any, signature: str) -> None:
    response = client.post("/stripe", data=stripe_event(), headers={"Stripe-Signature": signature})
    assert response.status_code == 400
    assert platform.pull("payments") == []


def test_tampered_stripe_payload_is_refused(platform: Harness, client: Any) -> None:
    signature = stripe_signature(stripe_event(), SECRETS["STRIPE_WEBHOOK_SECRET"])
    tampered = stripe_event().replace(b"9900", b"1")
    assert (
        client.post("/stripe", data=tampered, headers={"Stripe-Signature": signature}).status_code
        == 400
    )
    assert platform.pull("payments") == []


def twilio_form() -> dict[str, str]:
    return {
        "MessageSid": "SM" + "1" * 32,
        "From": "+447700900006",
        "To": "+15005550006",
        "Body": "CANCEL",
        "AccountSid": "AC" + "0" * 32,
    }


def test_signed_twilio_webhook_becomes_sms_received(platform: Harness, client: Any) -> None:
    from twilio.request_validator import RequestValidator

    form = twilio_form()
    signature = RequestValidator(SECRETS["TWILIO_AUTH_TOKEN"]).compute_signature(
        f"{PUBLIC}/twilio", form
    )
    response = client.post("/twilio", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.data
    assert b"<Response>" in response.data
    (message,) = platform.pull("inbound")
    assert message.attributes["type"] == "sms.received"
    assert message.json()["body"] == "CANCEL"


@pytest.mark.parametrize("forgery", ["missing", "wrong-token", "wrong-url", "tampered"])
def test_forged_twilio_webhook_is_forbidden(platform: Harness, client: Any, forgery: str) -> None:
    from twilio.request_validator import RequestValidator

    form = twilio_form()
    token, url = SECRETS["TWILIO_AUTH_TOKEN"], f"{PUBLIC}/twilio"
    if forgery == "wrong-token":
        token = "not-the-token"
    if forgery == "wrong-url":
        url = "https://evil.example.com/twilio"
    signature = RequestValidator(token).compute_signature(url, form)
    if forgery == "tampered":
        form["Body"] = "something else"
    headers = {} if forgery == "missing" else {"X-Twilio-Signature": signature}
    assert client.post("/twilio", data=form, headers=headers).status_code == 403
    assert platform.pull("inbound") == []


def test_publish_failure_answers_503_so_the_caller_retries(
    platform: Harness, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_TOPIC_BOOKINGS")
    response = client.post("/bookings", json=BOOKING, headers=api_headers())
    assert response.status_code == 503


def test_odd_provider_fields_do_not_block_a_payment(platform: Harness, client: Any) -> None:
    payload = stripe_event("evt_odd").replace(b"+447700900006", b"not a phone")
    payload = payload.replace(b"bk-0123456789abcdef0123", b"Not A Booking!")
    signature = stripe_signature(payload, SECRETS["STRIPE_WEBHOOK_SECRET"])
    response = client.post("/stripe", data=payload, headers={"Stripe-Signature": signature})
    assert response.status_code == 200, response.data
    (message,) = platform.pull("payments")
    assert "customer_phone" not in message.json() and "booking_id" not in message.json()


def test_unrelated_stripe_events_are_acknowledged_and_ignored(
    platform: Harness, client: Any
) -> None:
    payload = stripe_event("evt_other").replace(b"checkout.session.completed", b"customer.created")
    signature = stripe_signature(payload, SECRETS["STRIPE_WEBHOOK_SECRET"])
    response = client.post("/stripe", data=payload, headers={"Stripe-Signature": signature})
    assert response.status_code == 200 and response.json == {"ignored": "customer.created"}
    assert platform.pull("payments") == []
