"""POST /bookings: the booking request API (contract: docs/booking-api.md).

Order of checks, cheapest first, so an anonymous or abusive caller costs almost nothing:

1. a declared ``Content-Length`` above ``MAX_BODY_BYTES``: 413, nothing read;
2. ``Authorization: Bearer <key>`` (``gateway_auth``): 401 without it;
3. the caller's request limit (``per_minute`` of its key, this instance): 429;
4. the body, read with the cap (a chunked body too): 413;
5. the body against ``BookingRequest`` in pydantic strict mode (no ``"2500"`` for a number,
   no ``true``, no epoch seconds for a time), the declared services (``BOOKING_SERVICES``),
   the booking's length and horizon: 400 with ``{"errors": [{"field", "message"}]}``;
6. ``Idempotency-Key`` (1..255 printable ASCII, scoped to the caller): the same key with
   the same body answers the first answer again; with another body, 422;
7. the per-phone limit (``PHONE_BURST`` new bookings per phone, refilled one per
   ``PHONE_REFILL_SECONDS``, this instance): 429;
8. publish booking.requested: 202 ``{"booking_id", "event_id", "status": "requested"}``
   (a publish failure is a 503: retry with the same Idempotency-Key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from typing import Any

from gateway_auth import authenticate
from gateway_body import RefusedError, read_body, too_large
from gateway_limits import IdempotencyMemory, RateLimiter
from switchboard_runtime.publisher import derive_event_id

MAX_BODY_BYTES = 16 * 1024
PHONE_BURST = 3
PHONE_REFILL_SECONDS = 600.0
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
SERVICES_ENV = "BOOKING_SERVICES"

limiter = RateLimiter()
remembered = IdempotencyMemory()


def declared_services() -> frozenset[str]:
    """``BOOKING_SERVICES``: the comma-separated services customers may book."""
    from switchboard_runtime.events import MAX_SERVICE_LENGTH, SERVICE

    raw = os.environ.get(SERVICES_ENV, "")
    services = frozenset(s.strip() for s in raw.split(",") if s.strip())
    if not services or any(
        len(s) > MAX_SERVICE_LENGTH or not re.match(SERVICE, s) for s in services
    ):
        raise RuntimeError(
            f"{SERVICES_ENV} must list the bookable services, comma-separated "
            f"(letters, spaces, hyphens; at most {MAX_SERVICE_LENGTH} characters each)"
        )
    return services


def _input_model() -> Any:
    from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
    from switchboard_runtime import events

    class BookingRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)
        customer: events.Customer
        service: str = Field(min_length=1, max_length=events.MAX_SERVICE_LENGTH)
        starts_at: events.Time
        ends_at: events.Time
        amount_minor: events.PositiveAmount
        currency: str = Field(
            default_factory=lambda: os.environ.get("BOOKING_CURRENCY", "gbp"),
            pattern=events.CURRENCY,
        )
        notes: str | None = Field(default=None, max_length=events.MAX_NOTES_LENGTH)

        @field_validator("service")
        @classmethod
        def _declared(cls, service: str) -> str:
            offered = declared_services()
            if service not in offered:
                raise ValueError(f"must be one of: {', '.join(sorted(offered))}")
            return service

        @field_validator("starts_at")
        @classmethod
        def _ahead(cls, starts_at: dt.datetime) -> dt.datetime:
            now = dt.datetime.now(dt.UTC)
            if starts_at <= now:
                raise ValueError("must be in the future")
            if starts_at - now > events.MAX_BOOKING_HORIZON:
                raise ValueError(f"may be at most {events.MAX_BOOKING_HORIZON.days} days ahead")
            return starts_at

        @field_validator("ends_at")
        @classmethod
        def _length(cls, ends_at: dt.datetime, info: ValidationInfo) -> dt.datetime:
            starts_at = info.data.get("starts_at")
            if starts_at is None:
                return ends_at
            if ends_at <= starts_at:
                raise ValueError("must be after starts_at")
            if ends_at - starts_at > events.MAX_BOOKING_LENGTH:
                hours = events.MAX_BOOKING_LENGTH.total_seconds() / 3600
                raise ValueError(f"a booking may last at most {hours:g} hours")
            return ends_at

    return BookingRequest


def _validated(body: bytes) -> Any:
    from pydantic import ValidationError

    try:
        return _input_model().model_validate_json(body, strict=True)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"][:300]}
            for e in exc.errors(include_url=False, include_input=False)[:20]
        ]
        raise _InvalidError(errors) from None


class _InvalidError(RefusedError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(400, errors[0]["field"], errors[0]["message"])
        self.errors = errors

    def answer(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _limited(key: str, capacity: float, per_second: float, what: str) -> None:
    wait = limiter.take(key, capacity, per_second)
    if wait is not None:
        headers = {"Retry-After": str(wait)}
        raise RefusedError(429, "(request)", f"too many requests {what}", headers)


def booking_request(request: Any) -> tuple[int, dict[str, Any], str | None]:
    """(status, JSON answer, event type published or None); RefusedError for every 4xx."""
    from switchboard_runtime.publisher import publish_event

    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise too_large(MAX_BODY_BYTES)
    caller = authenticate(request)
    _limited(f"caller:{caller.name}", caller.per_minute, caller.per_minute / 60, "from this key")
    body = read_body(request, MAX_BODY_BYTES)
    key = request.headers.get("Idempotency-Key", "")
    if key and not IDEMPOTENCY_KEY.fullmatch(key):
        raise RefusedError(400, "Idempotency-Key", "must be 1-255 printable ASCII characters")
    accepted = _validated(body)
    document = accepted.model_dump(mode="json", exclude_none=True)
    fingerprint = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    if key:
        event_id = derive_event_id(f"booking-api:{caller.name}:{key}", "booking.requested")
        seen = remembered.seen(event_id, fingerprint)
        if seen == "conflict":
            raise RefusedError(
                422, "Idempotency-Key", "this key was used with a different body; use a new key"
            )
    else:
        event_id, seen = str(uuid.uuid4()), "new"
    if seen == "new":
        phone = accepted.customer.phone
        _limited(f"phone:{phone}", PHONE_BURST, 1 / PHONE_REFILL_SECONDS, "for this phone number")
        remembered.remember(event_id, fingerprint)
    booking_id = "bk-" + hashlib.sha256(event_id.encode()).hexdigest()[:20]
    publish_event(
        "bookings",
        "booking.requested",
        {"booking_id": booking_id, **document},
        event_id=event_id,
        source="gateway",
        correlation_id=event_id,
    )
    answer = {"booking_id": booking_id, "event_id": event_id, "status": "requested"}
    return 202, answer, "booking.requested"
