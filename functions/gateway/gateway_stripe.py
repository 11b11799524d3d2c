"""POST /stripe: a verified Stripe webhook normalised into payment.received.

- The body is read with a cap (``MAX_BODY_BYTES``): 413 above it.
- The signature is checked by the official SDK's ``stripe.WebhookSignature.verify_header``
  (what ``stripe.Webhook.construct_event`` calls) with ``STRIPE_WEBHOOK_SECRET`` and the
  default 300 s tolerance: a bad or stale signature is a 400 and nothing is published.
- The verified JSON is then checked against the fields we read, strictly (a string where
  Stripe sends a number is refused, not coerced): a signed event of the wrong shape is a
  **400** naming the field. Stripe retries any non-2xx for up to three days and then shows
  the event as failed in its dashboard, where it can be resent once fixed; a 200 would make
  Stripe forget a payment we did not record, and a 5xx would page us for Stripe's schema.
- ``checkout.session.completed`` (when paid), ``checkout.session.async_payment_succeeded``
  and ``payment_intent.succeeded`` become payment.received; other types are acknowledged
  (200) and ignored. The payment is identified by its **payment intent** (a checkout
  session's ``payment_intent``), so the session's event and the intent's event for one
  payment name the same ``payment_id`` and billing records it once. The event id derives
  from Stripe's event id, so Stripe's retries are deduplicated downstream.
"""

from __future__ import annotations

import os
import re
from typing import Any

from gateway_body import RefusedError, parse_json, read_body
from switchboard_runtime.events import BOOKING_ID, PHONE
from switchboard_runtime.publisher import derive_event_id, publish_event

MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 300
CHECKOUT_TYPES = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
PAYMENT_TYPES = (*CHECKOUT_TYPES, "payment_intent.succeeded")


def _models() -> tuple[Any, Any, Any]:
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field
    from switchboard_runtime import events

    Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]  # noqa: N806

    class Loose(BaseModel):
        model_config = ConfigDict(extra="ignore", strict=True)

    class Data(Loose):
        object: dict[str, Any]

    class Event(Loose):
        id: events.Id
        type: str = Field(min_length=1, max_length=100)
        data: Data

    class Session(Loose):
        id: events.Id
        payment_status: str | None = Field(default=None, max_length=50)
        amount_total: events.Amount | None = None
        currency: Currency
        payment_intent: events.Id | None = None
        metadata: Any = None
        customer_details: Any = None

    class Intent(Loose):
        id: events.Id
        amount_received: events.Amount
        currency: Currency
        metadata: Any = None

    return Event, Session, Intent


def _checked(model: Any, document: Any, where: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(document, strict=True)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join([where, *(str(p) for p in error["loc"])]).strip(".") or "(body)"
        message = f"signed event of an unexpected shape: {error['msg']}"
        raise RefusedError(400, field, message) from None


def stripe_webhook(request: Any) -> tuple[int, Any, str | None]:
    import stripe

    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET is not set")
    payload = read_body(request, MAX_BODY_BYTES)
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        return 400, {"error": f"invalid webhook: {type(exc).__name__}"}, None
    event_model, session_model, intent_model = _models()
    event = _checked(event_model, parse_json(payload), "")
    if event.type not in PAYMENT_TYPES:
        return 200, {"ignored": event.type}, None
    payment = event.data.object
    if event.type in CHECKOUT_TYPES:
        session = _checked(session_model, payment, "data.object")
        if session.payment_status != "paid":
            return 200, {"ignored": "checkout session not paid"}, None
        payment_id = session.payment_intent or session.id
        amount, currency, metadata = session.amount_total or 0, session.currency, session.metadata
        details = session.customer_details if isinstance(session.customer_details, dict) else {}
    else:
        intent = _checked(intent_model, payment, "data.object")
        payment_id, amount, currency = intent.id, intent.amount_received, intent.currency
        metadata, details = intent.metadata, {}
    metadata = metadata if isinstance(metadata, dict) else {}
    data = {
        "provider": "stripe",
        "provider_event_id": event.id,
        "provider_event_type": event.type,
        "payment_id": payment_id,
        "booking_id": _matching(metadata.get("booking_id"), BOOKING_ID),
        "amount_minor": amount,
        "currency": currency.lower(),
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
