"""One valid example of each event type's data, for scaffolded tests and ``make publish``.

A unit test checks that every type in the runtime's registry has an example here and
that each example validates, so a schema change shows up in one place.
"""

from __future__ import annotations

from typing import Any

_CUSTOMER = {"name": "Ada", "phone": "+447700900123"}
_SLOT = {
    "booking_id": "bk-example-0001",
    "starts_at": "2030-05-06T14:00:00+00:00",
    "ends_at": "2030-05-06T14:30:00+00:00",
}
_REQUESTED = {
    **_SLOT,
    "customer": _CUSTOMER,
    "service": "haircut",
    "amount_minor": 2500,
    "currency": "gbp",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "booking.requested": _REQUESTED,
    "booking.cancelled": {"booking_id": "bk-example-0001", "reason": "customer asked"},
    "booking.confirmed": {**_REQUESTED, "calendar_event_id": "0123456789abcdefghij"},
    "booking.rejected": {"booking_id": "bk-example-0001", "reason": "slot busy"},
    "payment.link_created": {
        "booking_id": "bk-example-0001",
        "payment_link_id": "plink_1",
        "url": "https://pay.example/plink_1",
        "amount_minor": 2500,
        "currency": "gbp",
    },
    "payment.received": {
        "provider_event_id": "evt_1",
        "provider_event_type": "checkout.session.completed",
        "payment_id": "cs_1",
        "booking_id": "bk-example-0001",
        "amount_minor": 2500,
        "currency": "gbp",
    },
    "payment.recorded": {
        "booking_id": "bk-example-0001",
        "payment_id": "cs_1",
        "amount_minor": 2500,
        "currency": "gbp",
    },
    "notification.requested": {
        "to": "+447700900123",
        "body": "Hello from Switchboard",
        "purpose": "other",
    },
    "sms.received": {
        "message_sid": "SM0123456789abcdef0123456789abcdef",
        "from_number": "+447700900123",
        "to_number": "+15005550006",
        "body": "hello",
    },
    "tick": {"target": "example"},
}


def example(event_type: str) -> dict[str, Any]:
    """A valid example of ``event_type``'s data; ``{}`` for a type with none yet."""
    return dict(EXAMPLES.get(event_type, {}))
