"""The scenario's Stripe webhook signature is one Stripe's own SDK accepts."""

from __future__ import annotations

import json

import pytest

from localdev.stripe_signing import checkout_completed, signature_header

SECRET = "whsec_local_0123456789abcdef"


def test_the_stripe_sdk_verifies_our_signature() -> None:
    stripe = pytest.importorskip("stripe")
    payload = checkout_completed("bk-1", 2500, "gbp", "+447700900123")
    event = stripe.Webhook.construct_event(payload, signature_header(payload, SECRET), SECRET)
    assert event.type == "checkout.session.completed"
    session = json.loads(payload)["data"]["object"]
    assert session["payment_status"] == "paid"
    assert session["metadata"] == {"booking_id": "bk-1"}
    assert session["amount_total"] == 2500


def test_a_wrong_secret_or_stale_time_is_refused() -> None:
    stripe = pytest.importorskip("stripe")
    payload = checkout_completed("bk-1", 2500, "gbp")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature_header(payload, "whsec_x"), SECRET)
    stale = signature_header(payload, SECRET, timestamp=1_000_000_000)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stale, SECRET)


def test_signature_header_shape() -> None:
    header = signature_header(b"{}", SECRET, timestamp=1700000000)
    timestamp, signature = header.split(",")
    assert timestamp == "t=1700000000"
    assert signature.startswith("v1=") and len(signature) == 3 + 64
