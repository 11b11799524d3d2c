"""The scheduler agent: Calendar free/busy, then create or reject; cancel on request.

Consumes ``bookings`` (booking.requested, booking.cancelled); publishes booking.confirmed
or booking.rejected. The Calendar event id is chosen by us from the booking id
(``scheduler_calendar.calendar_event_id``), so a redelivered or taken-over request finds
or re-creates the same event (a 409 on insert means it exists: success). Before free/busy
the event is looked up, so our own event never makes its booking look busy.

Firestore: only the runtime's ``processed_events`` claims. Known limit: two different
bookings for one slot that check free/busy at the same moment can both be accepted;
Calendar offers no conditional insert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework
import scheduler_calendar as calendar
from switchboard_runtime import Agent, Context

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import BookingCancelled, BookingRequested

agent = Agent("scheduler", secrets=("GOOGLE_CALENDAR_CREDENTIALS",), preload=(calendar.preload,))


@agent.on("booking.requested")
def requested(ctx: Context[BookingRequested]) -> str:
    booking = ctx.data
    event_id = calendar.calendar_event_id(booking.booking_id)
    starts, ends = booking.starts_at.isoformat(), booking.ends_at.isoformat()
    existing = ctx.retry(lambda: calendar.get_event(event_id))
    if existing is not None and existing.get("status") == "cancelled":
        return _reject(ctx, booking, "the booking was cancelled")
    if existing is None:
        if ctx.retry(lambda: calendar.busy_blocks(starts, ends)):
            return _reject(ctx, booking, "the requested time is not available")
        body = {
            "summary": f"{booking.service}: {booking.customer.name}",
            "description": f"Switchboard booking {booking.booking_id}",
            "start": {"dateTime": starts},
            "end": {"dateTime": ends},
            "extendedProperties": {"private": {"booking_id": booking.booking_id}},
        }
        ctx.retry(lambda: calendar.insert_event(event_id, body))
    confirmed = {**booking.model_dump(mode="json"), "calendar_event_id": event_id}
    ctx.publish("bookings", "booking.confirmed", confirmed, purpose="booking.confirmed")
    return "confirmed"


def _reject(ctx: Context[BookingRequested], booking: BookingRequested, reason: str) -> str:
    rejected = {
        "booking_id": booking.booking_id,
        "reason": reason,
        "customer": booking.customer.model_dump(mode="json"),
        "starts_at": booking.starts_at.isoformat(),
    }
    ctx.publish("bookings", "booking.rejected", rejected, purpose="booking.rejected")
    return "rejected"


@agent.on("booking.cancelled")
def cancelled(ctx: Context[BookingCancelled]) -> str:
    event_id = calendar.calendar_event_id(ctx.data.booking_id)
    removed = ctx.retry(lambda: calendar.cancel_event(event_id))
    return "cancelled" if removed else "already_gone"


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
