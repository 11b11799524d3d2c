"""One registry of every event type: its topic, schema version and pydantic model.

The registry must equal the event types declared in ``functions/catalogue.yaml`` (a unit
test checks it). Timestamps are ISO 8601 with a timezone; money is an integer amount in
minor units (pence, cents) with a lower-case ISO 4217 currency.

Every field is bounded, because every event's data came from outside at some point: each
string has a maximum length (and, where it reaches an SMS or a calendar, a charset), each
amount a ceiling, each time a year range (so no conversion can overflow) and each slot a
maximum length. A value outside a bound is a schema error, which the runtime treats as
permanent (dead-lettered with the reason), never as a transient failure retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from switchboard_runtime.errors import PermanentError

PHONE = r"^\+[1-9][0-9]{6,14}$"  # E.164
BOOKING_ID = r"^[a-z0-9][a-z0-9-]{2,63}$"
CURRENCY = r"^[a-z]{3}$"
# What reaches an SMS or a calendar from a customer: letters only (any script), words
# joined by one space, apostrophe or hyphen. No digits, dots, colons or slashes, so no
# URL, domain or phone number can be smuggled into a text sent from the business's number.
PERSON_NAME = r"^[^\W\d_]+(?:[ '\u2019-][^\W\d_]+)*$"
MAX_NAME_LENGTH = 40
SERVICE = r"^[A-Za-z]+(?:[ -][A-Za-z]+)*$"
MAX_SERVICE_LENGTH = 40
MAX_NOTES_LENGTH = 500
MAX_AMOUNT_MINOR = 99_999_999  # Stripe's ceiling for a charge (8 digits of minor units)
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_BOOKING_LENGTH = timedelta(hours=12)
MAX_BOOKING_HORIZON = timedelta(days=366)  # checked where "now" is known (the gateway)
MAX_ID_LENGTH = 255
MAX_SMS_BODY = 1600  # Twilio's limit for one (concatenated) message


def _bounded_time(value: datetime) -> datetime:
    """Refuse years outside MIN_YEAR..MAX_YEAR before anything converts the value (a time at
    9999-12-31T23:59-14:00 overflows when normalised to UTC)."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


Time = Annotated[AwareDatetime, AfterValidator(_bounded_time)]
# A provider's object id (Stripe's ``pi_...``, ``evt_...``); safe as a Firestore document id.
Id = Annotated[
    str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT_MINOR)]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT_MINOR)]


class Schema(BaseModel):
    """Base of every event's data: unknown fields are refused, values are strict enough."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Customer(Schema):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=PERSON_NAME)
    phone: str = Field(pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class Slot(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    starts_at: Time
    ends_at: Time

    @model_validator(mode="after")
    def _ordered(self) -> Slot:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_BOOKING_LENGTH:
            hours = MAX_BOOKING_LENGTH.total_seconds() / 3600
            raise ValueError(f"a booking may last at most {hours:g} hours")
        return self


class BookingRequested(Slot):
    customer: Customer
    service: str = Field(min_length=1, max_length=MAX_SERVICE_LENGTH, pattern=SERVICE)
    amount_minor: PositiveAmount
    currency: str = Field(pattern=CURRENCY)
    notes: str | None = Field(default=None, max_length=MAX_NOTES_LENGTH)


class BookingCancelled(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    reason: str | None = Field(default=None, max_length=500)


class BookingConfirmed(BookingRequested):
    calendar_event_id: str = Field(min_length=5, max_length=1024)


class BookingRejected(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    reason: str = Field(max_length=500)
    customer: Customer | None = None
    starts_at: Time | None = None


class PaymentLinkCreated(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    payment_link_id: Id
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[\x21-\x7e]+$")
    amount_minor: PositiveAmount
    currency: str = Field(pattern=CURRENCY)


class PaymentReceived(Schema):
    provider: Literal["stripe"] = "stripe"
    provider_event_id: Id
    provider_event_type: str = Field(min_length=1, max_length=100)
    payment_id: Id  # the payment intent's id (a checkout session's, when it has none)
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)
    amount_minor: Amount
    currency: str = Field(pattern=CURRENCY)
    customer_phone: str | None = Field(default=None, pattern=PHONE)


class PaymentRecorded(Schema):
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)
    payment_id: Id
    amount_minor: Amount
    currency: str = Field(pattern=CURRENCY)


class NotificationRequested(Schema):
    to: str = Field(pattern=PHONE)
    body: str = Field(min_length=1, max_length=1400)
    purpose: Literal["payment_link", "payment_receipt", "reminder", "rejection", "other"]
    booking_id: str | None = Field(default=None, pattern=BOOKING_ID)


class SmsReceived(Schema):
    message_sid: str = Field(pattern=r"^[A-Z]{2}[0-9a-fA-F]{32}$")
    from_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:+._-]+$")
    to_number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:+._-]+$")
    body: str = Field(max_length=MAX_SMS_BODY)


class Tick(BaseModel):
    """Cloud Scheduler's payload is free-form; only these optional fields are read."""

    model_config = ConfigDict(extra="allow", frozen=True)
    target: str | None = Field(default=None, max_length=64)
    scheduled_at: Annotated[datetime, AfterValidator(_bounded_time)] | None = None


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
