"""The reminders agent: on each tick, one reminder per upcoming confirmed booking.

Consumes ``ticks`` (type ``tick``, target ``reminders``); publishes notification.requested.

Reads the ledger's projection ``bookings`` (``status``, ``starts_at``,
``customer_phone``, ``customer_name``, ``service``): ``status == "confirmed"`` and
``starts_at`` within ``REMINDER_WINDOW_MINUTES`` from now, ordered by ``starts_at``
(the composite index ``bookings-by-status-and-start`` in infra/firestore/schema.py:
status ASC, starts_at ASC).

Firestore collection ``reminders/{booking_id}`` (written here): ``state``
(``claimed`` | ``requested``), ``tick_event_id``, ``claimed_at``, ``requested_at``,
``notification_event_id``, ``expires_at``. The claim is a ``create()``, so two ticks
never both remind. A ``claimed`` (not ``requested``) claim is finished by a redelivery of
the same tick, skipped by another tick while younger than the runtime's lease, and taken
over once older (its tick died). The ``requested`` marks are staged on ``ctx.writes`` and
ride with the tick's completion in one commit. The notification's event id is derived
from the booking id alone, so any republishing repeats the same event and the notifier
texts once.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any

import functions_framework
from switchboard_runtime import Agent, Context
from switchboard_runtime.writes import MAX_WRITES

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import Tick

COLLECTION = "reminders"
BOOKINGS = "bookings"
MAX_PER_TICK = 500
RETENTION = dt.timedelta(days=30)


def _preload() -> None:
    from google.cloud.firestore_v1 import base_query  # noqa: F401 - tick's FieldFilter


agent = Agent("reminders", preload=(_preload,))


def window() -> dt.timedelta:
    return dt.timedelta(minutes=float(os.environ.get("REMINDER_WINDOW_MINUTES", "1440")))


@agent.on("tick")
def tick(ctx: Context[Tick]) -> str:
    from google.cloud.firestore_v1.base_query import FieldFilter

    now = dt.datetime.now(dt.UTC)
    db = ctx.firestore()
    query = (
        db.collection(BOOKINGS)
        .where(filter=FieldFilter("status", "==", "confirmed"))
        .where(filter=FieldFilter("starts_at", ">=", now))
        .where(filter=FieldFilter("starts_at", "<=", now + window()))
        .order_by("starts_at")
        .limit(MAX_PER_TICK)
    )
    bookings = ctx.retry(lambda: list(query.stream()))
    sent = 0
    for snapshot in bookings:
        booking = snapshot.to_dict() or {}
        if booking.get("status") != "confirmed" or not booking.get("customer_phone"):
            continue
        if _remind(ctx, snapshot.id, booking):
            sent += 1
    return f"reminded:{sent}"


def _remind(ctx: Context[Tick], booking_id: str, booking: dict[str, Any]) -> bool:
    from google.api_core.exceptions import AlreadyExists
    from switchboard_runtime.idempotency import lease_seconds
    from switchboard_runtime.publisher import derive_event_id

    reference = ctx.firestore().collection(COLLECTION).document(booking_id)
    event_id = derive_event_id(f"reminder:{booking_id}", "notification.requested")
    now = dt.datetime.now(dt.UTC)
    claim = {
        "state": "claimed",
        "tick_event_id": ctx.event.event_id,
        "notification_event_id": event_id,
        "claimed_at": now,
        "expires_at": now + RETENTION,
    }

    def take() -> bool:
        try:
            reference.create(claim)
            return True
        except AlreadyExists:
            pass
        current = reference.get().to_dict() or {}
        if current.get("state") == "requested":
            return False
        if current.get("tick_event_id") == ctx.event.event_id:
            return True  # this tick's own attempt crashed before "requested": finish it
        claimed_at = current.get("claimed_at")
        if claimed_at is not None and now - claimed_at < dt.timedelta(seconds=lease_seconds()):
            return False  # another tick is on it right now
        reference.set(claim, merge=True)  # a stale claim: its tick died; take it over
        return True

    if not ctx.retry(take):
        return False
    starts = booking["starts_at"].strftime("%d %b %Y at %H:%M UTC")
    name = booking.get("customer_name") or "there"
    note = {
        "to": booking["customer_phone"],
        "body": f"Hi {name}, a reminder: your {booking.get('service', 'booking')} is on {starts}.",
        "purpose": "reminder",
        "booking_id": booking_id,
    }
    ctx.publish(
        "notifications", "notification.requested", note, purpose="reminder", event_id=event_id
    )
    requested = {"state": "requested", "requested_at": now}
    if len(ctx.writes) < MAX_WRITES:
        ctx.writes.set(reference, requested, merge=True)  # rides with the tick's completion
    else:
        ctx.retry(lambda: reference.set(requested, merge=True))
    return True


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
