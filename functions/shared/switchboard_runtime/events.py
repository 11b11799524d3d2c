"""One registry of every event type: its topic, schema version and pydantic model.

The registry must equal the event types declared in ``functions/catalogue.yaml`` (a unit
test checks it). Timestamps are ISO 8601 with a timezone; money is an integer amount in
minor units (pence, cents) with a lower-case ISO 4217 currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from switchboard_runtime.errors import PermanentError

PHONE = r"^\+[1-9][0-9]{6,14}$"  # E.164
BOOKING_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
CURRENCY = r"^[a-z]{3}$"


class Schema(BaseModel):
    """Base of every event's data: unknown fields are refused, values are strict enough."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Customer(Schema):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class Slot(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Slot:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class BookingRequested(Slot):
    customer: Customer
    service: str = Field(min_length=1, max_length=200)
    amount_minor: int = Field(gt=0, le=100_000_000)
    currency: str = Field(pattern=CURRENCY)
    notes: str | None = Field(default=None, max_length=2000)


class BookingCancelled(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    reason: str | None = Field(default=None, max_length=500)


class BookingConfirmed(BookingRequested):
    calendar_event_id: str = Field(min_length=5, max_length=1024)


class BookingRejected(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    reason: str = Field(max_length=500)
    customer: Customer | None = None
    starts_at: AwareDatetime | None = None


class PaymentLinkCreated(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    payment_link_id: str = Field(min_length=1)
    url: str = Field(min_length=1, max_length=2048)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=CURRENCY)


class PaymentReceived(Schema):
    provider: Literal["stripe"] = "stripe"
    provider_event_id: str = Field(min_length=1)
    provider_event_type: str = Field(min_length=1)
    payment_id: str = Field(min_length=1)  # checkout session or payment intent id
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=CURRENCY)
    customer_phone: str | None = Field(default=None, pattern=PHONE)


class PaymentRecorded(Schema):
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)
    payment_id: str = Field(min_length=1)
    amount_minor: int = Field(ge=0)
    currency: str = Field(pattern=CURRENCY)


class NotificationRequested(Schema):
    to: str = Field(pattern=PHONE)
    body: str = Field(min_length=1, max_length=1400)
    purpose: Literal["payment_link", "payment_receipt", "reminder", "rejection", "other"]
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)


class SmsReceived(Schema):
    message_sid: str = Field(min_length=1)
    from_number: str = Field(min_length=1)
    to_number: str = Field(min_length=1)
    body: str = Field(max_length=1600)


class Tick(BaseModel):
    """Cloud Scheduler's payload is free-form; only these optional fields are read."""

    model_config = ConfigDict(extra="allow", frozen=True)
    target: str | None = None
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    version: int
    model: type[BaseModel]


EVENT_TYPES: dict[str, EventSpec] = {
    spec.type: spec
    for spec in (
        EventSpec("booking.requested", "bookings", 1, BookingRequested),
        EventSpec("booking.cancelled", "bookings", 1, BookingCancelled),
        EventSpec("booking.confirmed", "bookings", 1, BookingConfirmed),
        EventSpec("booking.rejected", "bookings", 1, BookingRejected),
        EventSpec("payment.link_created", "payments", 1, PaymentLinkCreated),
        EventSpec("payment.received", "payments", 1, PaymentReceived),
        EventSpec("payment.recorded", "payments", 1, PaymentRecorded),
        EventSpec("notification.requested", "notifications", 1, NotificationRequested),
        EventSpec("sms.received", "inbound", 1, SmsReceived),
        EventSpec("tick", "ticks", 1, Tick),
    )
}


def spec_for(event_type: str) -> EventSpec:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise PermanentError(f"unknown event type {event_type!r}") from None


def validate(event_type: str, data: Any) -> BaseModel:
    """The validated model for ``data``; PermanentError naming the bad fields otherwise."""
    spec = spec_for(event_type)
    try:
        return spec.model.model_validate(data)
    except ValidationError as exc:
        raise PermanentError(f"invalid {event_type} data: {field_errors(exc)}") from exc


def field_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in error["loc"]) or "(data)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)[:800]
