"""The ledger agent: an append-only record of every domain event and a booking projection.

Consumes every domain topic (bookings, payments, notifications, inbound).

Firestore collections (written here):

- ``ledger/{event_id}``: ``type``, ``source``, ``correlation_id``, ``causation_id``,
  ``booking_id``, ``data`` (the event's JSON data), ``published_at``, ``recorded_at``,
  ``subscription``, ``message_id``. Created with ``create()``: a duplicate is a no-op.
- ``bookings/{booking_id}``: the projection; fields in ``ledger_projection``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import functions_framework
import ledger_projection
from switchboard_runtime import Agent, Context

DOMAIN_TYPES = (
    "booking.requested",
    "booking.cancelled",
    "booking.confirmed",
    "booking.rejected",
    "payment.link_created",
    "payment.received",
    "payment.recorded",
    "notification.requested",
    "sms.received",
)

agent = Agent("ledger")


@agent.on(*DOMAIN_TYPES)
def record(ctx: Context) -> str:
    from google.api_core.exceptions import AlreadyExists

    event = ctx.event
    data = ctx.data.model_dump(mode="json")
    booking_id = data.get("booking_id")
    entry = {
        "type": event.type,
        "source": event.source,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "booking_id": booking_id,
        "data": data,
        "published_at": event.publish_time,
        "recorded_at": dt.datetime.now(dt.UTC),
        "subscription": event.subscription,
        "message_id": event.message_id,
    }
    db = ctx.firestore()
    outcome = "recorded"

    def append() -> None:
        nonlocal outcome
        try:
            db.collection("ledger").document(event.event_id).create(entry)
        except AlreadyExists:
            outcome = "already_recorded"

    ctx.retry(append)
    if booking_id:
        ctx.retry(lambda: ledger_projection.apply(db, booking_id, event.event_id, event.type, data))
    return outcome


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
