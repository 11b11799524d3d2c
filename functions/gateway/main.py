"""The gateway: the public HTTP entry point (Cloud Run).

Routes: ``POST /bookings`` (``gateway_bookings``, API key required; contract in
docs/booking-api.md), ``POST /stripe`` (``gateway_stripe``) and ``POST /twilio``
(``gateway_twilio``), ``GET /healthz``. Every body is read with a cap, every webhook is
verified and every input validated before anything is published.

Answers: a problem of the request itself (too large, unauthenticated, invalid, over a
limit: ``gateway_body.RefusedError``, or a schema's PermanentError) is a 4xx with the reason
and a WARNING log line, no traceback, never a 5xx: retrying it cannot help. Only a failure of
ours or of Google Cloud (publishing, configuration) answers 503 so the caller (Stripe,
Twilio, the client) retries; event ids derive from the provider's ids (or the caller's
Idempotency-Key), so retries publish the same event. No Firestore collections.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import functions_framework
from switchboard_contract.environment import GOOGLE_CLOUD_PROJECT
from switchboard_runtime import logging as slog
from switchboard_runtime import warmup
from switchboard_runtime.errors import PermanentError, classify

SECRETS = ("STRIPE_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN", "BOOKING_API_KEYS")
slog.configure(SECRETS)

Answer = tuple[int, Any, str | None]


def _preload() -> None:
    import gateway_bookings  # noqa: F401
    import gateway_stripe  # noqa: F401
    import gateway_twilio  # noqa: F401
    import pydantic  # noqa: F401
    import stripe  # noqa: F401
    from twilio.request_validator import RequestValidator  # noqa: F401


warmup.start((_preload,), runtime=warmup.PUBLISHING_STEPS, after_import=__name__)


def _route(request: Any) -> Answer:
    path = request.path.rstrip("/") or "/"
    if path == "/healthz" and request.method == "GET":
        return 200, {"ok": True}, None
    if request.method != "POST":
        return 405, {"error": "method not allowed"}, None
    if path == "/bookings":
        import gateway_bookings

        return gateway_bookings.booking_request(request)
    if path == "/stripe":
        import gateway_stripe

        return gateway_stripe.stripe_webhook(request)
    if path == "/twilio":
        import gateway_twilio

        return gateway_twilio.twilio_webhook(request)
    return 404, {"error": "no such route"}, None


def _answer(request: Any) -> tuple[int, Any, str | None, dict[str, str]]:
    """(status, body, event type published, extra headers); never raises."""
    from gateway_body import RefusedError

    try:
        status, body, published = _route(request)
        return status, body, published, {}
    except RefusedError as refused:
        slog.get_logger().warning(f"refused {refused.status}: {refused.field}: {refused.message}")
        return refused.status, refused.answer(), None, refused.headers
    except Exception as exc:
        verdict = classify(exc)
        if isinstance(verdict, PermanentError):
            slog.get_logger().warning(f"refused 400: {verdict.reason}")
            return 400, {"errors": [{"field": "(body)", "message": verdict.reason}]}, None, {}
        unexpected = verdict.reason.startswith("unexpected")
        slog.get_logger().log(
            logging.ERROR if unexpected else logging.WARNING,
            f"request failed: {verdict.reason}",
            exc_info=unexpected,
        )
        return 503, {"error": "temporarily unavailable, retry"}, None, {"Retry-After": "5"}


def _respond(text: str, status: int, headers: dict[str, str]) -> Any:
    """The answer as a *streamed* response: functions-framework reads whatever is left of a
    request body before a non-streamed answer (``read_request``), which would pull a
    refused 30 MiB body into memory after all. The server (gunicorn) discards the rest."""
    import flask

    payload = text.encode()
    headers = {**headers, "Content-Length": str(len(payload))}
    return flask.Response(iter([payload]), status=status, headers=headers)


@functions_framework.http
def handle(request: Any) -> Any:
    import os

    started = time.monotonic()
    token = slog.bind(
        agent="gateway",
        route=request.path[:200],
        **slog.trace_fields(request.headers, os.environ.get(GOOGLE_CLOUD_PROJECT)),
    )
    status, published = 500, None
    try:
        status, body, published, headers = _answer(request)
        if isinstance(body, str):
            return _respond(body, status, {"Content-Type": "text/xml", **headers})
        return _respond(json.dumps(body), status, {"Content-Type": "application/json", **headers})
    finally:
        latency = round((time.monotonic() - started) * 1000, 1)
        slog.get_logger().info(
            f"{request.method} {request.path[:200]} -> {status}",
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
