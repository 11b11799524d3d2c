"""The per-booking projection ``bookings/{booking_id}``, order-tolerant.

Fields: ``booking_id``, ``status`` (requested | confirmed | rejected | cancelled),
``status_rank``, ``service``, ``customer_name``, ``customer_phone``, ``customer_email``,
``starts_at``, ``ends_at`` (Firestore timestamps), ``amount_minor``, ``currency``,
``calendar_event_id``, ``rejection_reason``, ``payment_link_id``, ``payment_link_url``,
``paid`` (bool), ``payment_id``, ``paid_amount_minor``, ``reminder_requested_at``,
``notifications`` (count), ``applied_events`` (event ids applied), ``updated_at``.

Readers: the reminders agent (status, starts_at, customer_phone, reminder_requested_at),
billing (customer_phone), operators.

Events may arrive in any order (e.g. confirmed before requested): the status only moves
forward by rank (requested < confirmed = rejected < cancelled), descriptive fields are
filled from whichever event carries them, and each event is applied once
(``applied_events``). The change is staged (``stage``) and committed by the runtime with
the event's claim, on condition that the booking is unchanged since it was read: a
concurrent event for the same booking makes the runtime re-run the handler on a fresh
read, never overwrite the other's change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

COLLECTION = "bookings"
STATUS_RANK = {"requested": 1, "confirmed": 2, "rejected": 2, "cancelled": 3}
MAX_APPLIED = 200


def changes(event_type: str, data: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The fields ``event_type`` sets on a booking whose projection is ``current``."""
    update: dict[str, Any] = {}
    status = event_type.split(".", 1)[1] if event_type.startswith("booking.") else None
    if status in STATUS_RANK and STATUS_RANK[status] > int(current.get("status_rank", 0)):
        update["status"] = status
        update["status_rank"] = STATUS_RANK[status]
    if event_type in ("booking.requested", "booking.confirmed"):
        customer = data.get("customer") or {}
        update.update(
            {
                "service": data.get("service"),
                "customer_name": customer.get("name"),
                "customer_phone": customer.get("phone"),
                "customer_email": customer.get("email"),
                "starts_at": _time(data.get("starts_at")),
                "ends_at": _time(data.get("ends_at")),
                "amount_minor": data.get("amount_minor"),
                "currency": data.get("currency"),
            }
        )
        if data.get("calendar_event_id"):
            update["calendar_event_id"] = data["calendar_event_id"]
    elif event_type == "booking.rejected":
        update["rejection_reason"] = data.get("reason")
        customer = data.get("customer") or {}
        if customer.get("phone") and not current.get("customer_phone"):
            update["customer_phone"] = customer["phone"]
    elif event_type == "payment.link_created":
        update["payment_link_id"] = data.get("payment_link_id")
        update["payment_link_url"] = data.get("url")
    elif event_type in ("payment.received", "payment.recorded"):
        update["paid"] = True
        update["payment_id"] = data.get("payment_id")
        update["paid_amount_minor"] = data.get("amount_minor")
    elif event_type == "notification.requested":
        update["notifications"] = int(current.get("notifications", 0)) + 1
        if data.get("purpose") == "reminder":
            update["reminder_requested_at"] = dt.datetime.now(dt.UTC)
    return {k: v for k, v in update.items() if v is not None}


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def stage(
    writes: Any, client: Any, booking_id: str, *, event_id: str, event_type: str, data: dict
) -> bool:
    """Stage this event's change to the projection on ``writes`` (the runtime commits it
    with the claim, on condition that the booking is unchanged since read here); False
    if the event was applied before."""
    reference = client.collection(COLLECTION).document(booking_id)
    snapshot = writes.read(reference)
    current = (snapshot.to_dict() or {}) if snapshot.exists else {}
    applied = list(current.get("applied_events", []))
    if event_id in applied:
        return False
    fields = changes(event_type, data, current)
    fields["booking_id"] = booking_id
    fields["applied_events"] = [*applied, event_id][-MAX_APPLIED:]
    fields["updated_at"] = dt.datetime.now(dt.UTC)
    writes.merge(reference, fields, since=snapshot)
    return True
