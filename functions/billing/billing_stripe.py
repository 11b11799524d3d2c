"""Stripe through the official SDK: a StripeClient per configuration, no SDK retries.

``STRIPE_API_KEY`` is the secret key; ``SANDBOX_STRIPE_API_BASE`` (local platform, tests)
points the client's ``api`` base address at the sandbox. Retries are the runtime's
(jittered, inside the time budget), so the SDK's own are off; every POST carries an
idempotency key derived from the event, so a retry or a redelivery never creates twice.
"""

from __future__ import annotations

import os
import threading
from typing import Any

HTTP_TIMEOUT_SECONDS = 20.0
_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}


def client() -> Any:
    api_key = os.environ.get("STRIPE_API_KEY", "")
    base = os.environ.get("SANDBOX_STRIPE_API_BASE", "")
    if not api_key:
        raise RuntimeError("STRIPE_API_KEY is not set")
    with _lock:
        found = _cache.get((api_key, base))
        if found is None:
            import stripe

            found = stripe.StripeClient(
                api_key,
                base_addresses={"api": base.rstrip("/")} if base else None,
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=HTTP_TIMEOUT_SECONDS),
            )
            _cache[(api_key, base)] = found
        return found


def create_payment_link(
    *, key: str, booking_id: str, description: str, amount_minor: int, currency: str
) -> Any:
    """A one-off price and a payment link for it, both under idempotency keys from ``key``."""
    stripe = client()
    price = stripe.v1.prices.create(
        {
            "currency": currency,
            "unit_amount": amount_minor,
            "product_data": {"name": description[:250]},
            "metadata": {"booking_id": booking_id},
        },
        {"idempotency_key": f"{key}:price"},
    )
    return stripe.v1.payment_links.create(
        {
            "line_items": [{"price": price.id, "quantity": 1}],
            "metadata": {"booking_id": booking_id},
            "payment_intent_data": {"metadata": {"booking_id": booking_id}},
        },
        {"idempotency_key": f"{key}:payment-link"},
    )
