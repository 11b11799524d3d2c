"""The billing agent: payment links for confirmed bookings; records payments.

Consumes booking.confirmed (``bookings``) and payment.received (``payments``).

- booking.confirmed: a Stripe price and payment link, each created with an idempotency
  key derived from the event id (``<event_id>:price``, ``<event_id>:payment-link``), so a
  retry, a redelivery or a takeover after a crash gets Stripe's first answer back;
  then publishes payment.link_created and a notification.requested (SMS with the link).
- payment.received: records the payment once (``create()``: Stripe reports one payment
  with two events, the checkout session's and the payment intent's, both naming the
  payment intent as ``payment_id``), then publishes payment.recorded and, when the
  customer's phone is known, a notification.requested (receipt), with event ids derived
  from the payment: one payment, one record, one receipt. The second event of a payment
  answers ``already_recorded`` and publishes nothing.

Firestore collection ``payments/{payment_id}`` (written here): ``booking_id``,
``amount_minor``, ``currency``, ``provider``, ``provider_event_id``,
``provider_event_type``, ``recorded_at``, ``event_id``. Reads ``bookings/{booking_id}``
(the ledger's projection) for the customer's phone when the payment lacks it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import billing_stripe
import functions_framework
from switchboard_runtime import Agent, Context

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import BookingConfirmed, PaymentReceived

agent = Agent("billing", secrets=("STRIPE_API_KEY",), preload=(billing_stripe.client,))


@agent.on("booking.confirmed")
def confirmed(ctx: Context[BookingConfirmed]) -> str:
    booking = ctx.data
    when = booking.starts_at.strftime("%d %b %Y %H:%M")
    link = ctx.retry(
        lambda: billing_stripe.create_payment_link(
            key=ctx.event.event_id,
            booking_id=booking.booking_id,
            description=f"{booking.service} on {when}",
            amount_minor=booking.amount_minor,
            currency=booking.currency,
        )
    )
    created = {
        "booking_id": booking.booking_id,
        "payment_link_id": link.id,
        "url": link.url,
        "amount_minor": booking.amount_minor,
        "currency": booking.currency,
    }
    ctx.publish("payments", "payment.link_created", created, purpose="payment.link_created")
    sms = {
        "to": booking.customer.phone,
        "body": f"Hi {booking.customer.name}, your {booking.service} on {when} is confirmed. "
        f"Pay here: {link.url}",
        "purpose": "payment_link",
        "booking_id": booking.booking_id,
    }
    ctx.publish("notifications", "notification.requested", sms, purpose="payment-link-sms")
    return "link_created"


@agent.on("payment.received")
def received(ctx: Context[PaymentReceived]) -> str:
    from google.api_core.exceptions import AlreadyExists
    from switchboard_runtime.publisher import derive_event_id

    payment = ctx.data
    reference = ctx.firestore().collection("payments").document(payment.payment_id)
    record = {
        "booking_id": payment.booking_id,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "provider": payment.provider,
        "provider_event_id": payment.provider_event_id,
        "provider_event_type": payment.provider_event_type,
        "event_id": ctx.event.event_id,
        "recorded_at": dt.datetime.now(dt.UTC),
    }

    def create() -> str:
        try:
            reference.create(record)
        except AlreadyExists:
            return str((reference.get().to_dict() or {}).get("event_id", ""))
        return ctx.event.event_id

    recorded_by = ctx.retry(create)
    if recorded_by != ctx.event.event_id:
        # Another event of the same payment (Stripe sends the checkout session's and the
        # payment intent's) recorded it: that event publishes the follow-ups, once.
        return "already_recorded"
    # Follow-up ids derive from the payment, not from this event: whichever event records
    # it, the payment has one payment.recorded and one receipt.
    cause = f"payment:{payment.payment_id}"
    recorded = {
        "booking_id": payment.booking_id,
        "payment_id": payment.payment_id,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
    }
    ctx.publish(
        "payments",
        "payment.recorded",
        recorded,
        purpose="payment.recorded",
        event_id=derive_event_id(cause, "payment.recorded"),
    )
    phone = payment.customer_phone or _booking_phone(ctx, payment.booking_id)
    if phone:
        amount = f"{payment.amount_minor / 100:.2f} {payment.currency.upper()}"
        receipt = {
            "to": phone,
            "body": f"Thank you: we received your payment of {amount}.",
            "purpose": "payment_receipt",
            "booking_id": payment.booking_id,
        }
        ctx.publish(
            "notifications",
            "notification.requested",
            receipt,
            purpose="receipt-sms",
            event_id=derive_event_id(cause, "receipt-sms"),
        )
    return "recorded"


def _booking_phone(ctx: Context[PaymentReceived], booking_id: str | None) -> str | None:
    if not booking_id:
        return None
    snapshot = ctx.retry(lambda: ctx.firestore().collection("bookings").document(booking_id).get())
    return (snapshot.to_dict() or {}).get("customer_phone") if snapshot.exists else None


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
