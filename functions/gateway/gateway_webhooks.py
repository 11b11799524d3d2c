"""POST /stripe and POST /twilio: verified webhooks normalised into events.

- Stripe: ``stripe.Webhook.construct_event`` with ``STRIPE_WEBHOOK_SECRET`` (default
  tolerance 300 s): a bad or stale signature is a 400 and nothing is published.
  ``checkout.session.completed`` (paid) and ``payment_intent.succeeded`` become
  payment.received; other types are acknowledged and ignored. The event id derives from
  Stripe's event id, so Stripe's retries are deduplicated downstream.
- Twilio: ``twilio.request_validator.RequestValidator`` with ``TWILIO_AUTH_TOKEN`` over the
  public URL (``GATEWAY_PUBLIC_URL`` + path when set, else the request URL with the
  ``X-Forwarded-Proto`` scheme): a bad signature is a 403. The event id derives from the
  ``MessageSid``.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from switchboard_runtime.events import BOOKING_ID, PHONE
from switchboard_runtime.publisher import derive_event_id, publish_event

PAYMENT_TYPES = ("checkout.session.completed", "payment_intent.succeeded")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def stripe_webhook(request: Any) -> tuple[int, Any, str | None]:
    import stripe

    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET is not set")
    payload = request.get_data(cache=True)
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""), secret
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        return 400, {"error": f"invalid webhook: {type(exc).__name__}"}, None
    if event.type not in PAYMENT_TYPES:
        return 200, {"ignored": event.type}, None
    # Verified above; read the plain JSON (SDK objects are not dicts).
    payment = json.loads(payload)["data"]["object"]
    if event.type == "checkout.session.completed" and payment.get("payment_status") != "paid":
        return 200, {"ignored": "checkout session not paid"}, None
    metadata = payment.get("metadata") or {}
    details = payment.get("customer_details") or {}
    amount = payment.get("amount_total") if event.type.startswith("checkout") else None
    data = {
        "provider": "stripe",
        "provider_event_id": event.id,
        "provider_event_type": event.type,
        "payment_id": payment.get("id"),
        "booking_id": _matching(metadata.get("booking_id"), BOOKING_ID),
        "amount_minor": amount if amount is not None else payment.get("amount_received", 0),
        "currency": (payment.get("currency") or "").lower(),
        "customer_phone": _matching(details.get("phone"), PHONE),
    }
    event_id = derive_event_id(f"stripe:{event.id}", "payment.received")
    publish_event(
        "payments",
        "payment.received",
        {k: v for k, v in data.items() if v is not None},
        event_id=event_id,
        source="gateway",
        correlation_id=event_id,
    )
    return 200, {"received": event.id, "event_id": event_id}, "payment.received"


def _matching(value: Any, pattern: str) -> str | None:
    """``value`` when it fits our schema, else None (a payment is never refused for it)."""
    return value if isinstance(value, str) and re.match(pattern, value) else None


def public_url(request: Any) -> str:
    configured = os.environ.get("GATEWAY_PUBLIC_URL", "").rstrip("/")
    if configured:
        query = request.query_string.decode()
        return configured + request.path + (f"?{query}" if query else "")
    url = request.url
    scheme = request.headers.get("X-Forwarded-Proto")
    if scheme and "://" in url:
        url = scheme.split(",")[0].strip() + url[url.index("://") :]
    return url


def twilio_webhook(request: Any) -> tuple[int, Any, str | None]:
    from twilio.request_validator import RequestValidator

    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set")
    params = request.form.to_dict()
    signature = request.headers.get("X-Twilio-Signature", "")
    valid = bool(signature) and RequestValidator(token).validate(
        public_url(request), params, signature
    )
    if not valid:
        return 403, {"error": "invalid Twilio signature"}, None
    sid = params.get("MessageSid") or params.get("SmsSid")
    if not sid:
        return 400, {"error": "MessageSid is missing"}, None
    data = {
        "message_sid": sid,
        "from_number": params.get("From", ""),
        "to_number": params.get("To", ""),
        "body": params.get("Body", ""),
    }
    event_id = derive_event_id(f"twilio:{sid}", "sms.received")
    publish_event(
        "inbound",
        "sms.received",
        data,
        event_id=event_id,
        source="gateway",
        correlation_id=event_id,
    )
    return 200, EMPTY_TWIML, "sms.received"
