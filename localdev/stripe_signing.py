"""Sign a Stripe webhook the way Stripe does, so a local scenario can pay a booking.

``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the
whole whsec_ secret>``; the gateway verifies it with ``stripe.Webhook.construct_event``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def checkout_completed(
    booking_id: str, amount_minor: int, currency: str, phone: str | None = None
) -> bytes:
    """A ``checkout.session.completed`` (paid) event for ``booking_id``, as Stripe sends."""
    session_id = f"cs_local_{uuid.uuid4().hex[:24]}"
    intent_id = f"pi_local_{uuid.uuid4().hex[:24]}"
    event: dict[str, Any] = {
        "id": f"evt_local_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "checkout.session.completed",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": amount_minor,
                "currency": currency,
                "payment_intent": intent_id,
                "metadata": {"booking_id": booking_id},
                "customer_details": {"phone": phone},
            }
        },
    }
    return json.dumps(event).encode()
