"""The ledger agent: an append-only record of every domain event and a booking projection.

Consumes every domain topic (bookings, payments, notifications, inbound).

Firestore collections (written here):

- ``ledger/{event_id}``: ``type``, ``source``, ``correlation_id``, ``causation_id``,
  ``booking_id``, ``data`` (the event's JSON data), ``published_at``, ``recorded_at``,
  ``subscription``, ``message_id``.
- ``bookings/{booking_id}``: the projection; fields in ``ledger_projection``.

A Firestore-only route (``effects="firestore"``): both writes are staged on
``ctx.writes`` and committed by the runtime in one batch with the event's claim, so a
redelivery or a concurrent copy never applies them twice, and a crash before that commit
leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import functions_framework
import ledger_projection
from switchboard_runtime import Agent, Context

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import Schema

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


@agent.on(*DOMAIN_TYPES, effects="firestore")
def record(ctx: Context[Schema]) -> str:  # every domain type's model is a Schema
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
    # Staged, not written: the runtime commits both with the event's claim, once.
    ctx.writes.set(db.collection("ledger").document(event.event_id), entry)
    if booking_id:
        ctx.retry(
            lambda: ledger_projection.stage(
                ctx.writes,
                db,
                booking_id,
                event_id=event.event_id,
                event_type=event.type,
                data=data,
            )
        )
    return "recorded"


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
