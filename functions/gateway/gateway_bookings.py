"""POST /bookings: the public booking request API.

Body (JSON): ``customer`` {``name``, ``phone`` (E.164), ``email``?}, ``service``,
``starts_at``/``ends_at`` (ISO 8601 with a timezone, in the future), ``amount_minor``,
``currency`` (default ``BOOKING_CURRENCY`` or ``gbp``), ``notes``?. An optional
``Idempotency-Key`` header makes a retried request publish the same event and booking id.
Answers 202 ``{"booking_id", "event_id", "status": "requested"}`` or 400 with
``{"errors": [{"field", "message"}]}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from typing import Any

from switchboard_runtime.publisher import derive_event_id

MAX_BODY_BYTES = 64 * 1024


def _input_model() -> Any:
    from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
    from switchboard_runtime.events import CURRENCY, Customer

    class BookingRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
        customer: Customer
        service: str = Field(min_length=1, max_length=200)
        starts_at: AwareDatetime
        ends_at: AwareDatetime
        amount_minor: int = Field(gt=0, le=100_000_000)
        currency: str = Field(
            default_factory=lambda: os.environ.get("BOOKING_CURRENCY", "gbp"), pattern=CURRENCY
        )
        notes: str | None = Field(default=None, max_length=2000)

        @model_validator(mode="after")
        def _sensible(self) -> BookingRequest:
            if self.ends_at <= self.starts_at:
                raise ValueError("ends_at must be after starts_at")
            if self.starts_at <= dt.datetime.now(dt.UTC):
                raise ValueError("starts_at must be in the future")
            return self

    return BookingRequest


def booking_request(request: Any) -> tuple[int, dict[str, Any], str | None]:
    """(status, JSON answer, event type published or None)."""
    from pydantic import ValidationError
    from switchboard_runtime.publisher import publish_event

    if (request.content_length or 0) > MAX_BODY_BYTES:
        return 413, {"errors": [{"field": "(body)", "message": "body too large"}]}, None
    document = request.get_json(silent=True)
    if not isinstance(document, dict):
        return 400, {"errors": [{"field": "(body)", "message": "a JSON object is required"}]}, None
    try:
        accepted = _input_model().model_validate(document)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return 400, {"errors": errors}, None
    key = request.headers.get("Idempotency-Key", "").strip()
    if key:
        event_id = derive_event_id(f"booking-api:{key}", "booking.requested")
    else:
        event_id = str(uuid.uuid4())
    booking_id = "bk-" + hashlib.sha256(event_id.encode()).hexdigest()[:20]
    data = {"booking_id": booking_id, **accepted.model_dump(mode="json", exclude_none=True)}
    publish_event(
        "bookings",
        "booking.requested",
        data,
        event_id=event_id,
        source="gateway",
        correlation_id=event_id,
    )
    answer = {"booking_id": booking_id, "event_id": event_id, "status": "requested"}
    return 202, answer, "booking.requested"
