"""The gateway: the public HTTP entry point (Cloud Run).

Routes: ``POST /bookings`` (``gateway_bookings``), ``POST /stripe`` and ``POST /twilio``
(``gateway_webhooks``), ``GET /healthz``. Every webhook is verified before anything is
published. Publishing failures answer 503 so the caller (Stripe, Twilio, the client)
retries; event ids derive from the provider's ids (or the client's Idempotency-Key), so
retries publish the same event. No Firestore collections.
"""

from __future__ import annotations

import json
import time
from typing import Any

import functions_framework
from switchboard_runtime import logging as slog
from switchboard_runtime import warmup
from switchboard_runtime.errors import classify

SECRETS = ("STRIPE_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN")
slog.configure(SECRETS)


def _preload() -> None:
    import gateway_bookings  # noqa: F401
    import gateway_webhooks  # noqa: F401
    import pydantic  # noqa: F401
    import stripe  # noqa: F401
    from twilio.request_validator import RequestValidator  # noqa: F401


warmup.start((_preload,), runtime=warmup.PUBLISHING_STEPS, after_import=__name__)


def _route(request: Any) -> tuple[int, Any, str | None]:
    path = request.path.rstrip("/") or "/"
    if path == "/healthz" and request.method == "GET":
        return 200, {"ok": True}, None
    if request.method != "POST":
        return 405, {"error": "method not allowed"}, None
    if path == "/bookings":
        import gateway_bookings

        return gateway_bookings.booking_request(request)
    if path == "/stripe":
        import gateway_webhooks

        return gateway_webhooks.stripe_webhook(request)
    if path == "/twilio":
        import gateway_webhooks

        return gateway_webhooks.twilio_webhook(request)
    return 404, {"error": f"no route {path}"}, None


@functions_framework.http
def handle(request: Any) -> Any:
    import os

    started = time.monotonic()
    token = slog.bind(
        agent="gateway",
        route=request.path,
        **slog.trace_fields(request.headers, os.environ.get("GOOGLE_CLOUD_PROJECT")),
    )
    status, published = 500, None
    try:
        try:
            status, body, published = _route(request)
        except Exception as exc:
            verdict = classify(exc)
            slog.get_logger().error(f"request failed: {verdict.reason}", exc_info=True)
            status, body = 503, {"error": "temporarily unavailable, retry"}
        if isinstance(body, str):
            return body, status, {"Content-Type": "text/xml"}
        return json.dumps(body), status, {"Content-Type": "application/json"}
    finally:
        latency = round((time.monotonic() - started) * 1000, 1)
        slog.get_logger().info(
            f"{request.method} {request.path} -> {status}",
            extra={
                "fields": {
                    "status": status,
                    "type": published,
                    "latency_ms": latency,
                    "outcome": "published" if published else "none",
                }
            },
        )
        slog.unbind(token)
