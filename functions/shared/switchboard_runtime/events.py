"""The pydantic model of every version of every event type.

The names, topics and versions are the contract's (``switchboard_contract.event_types``,
which the catalogue loader holds ``functions/catalogue.yaml`` to): each type's topic comes
from there, and importing this module fails unless it models exactly the contract's
types and versions. Timestamps are ISO 8601 with a timezone; money is an integer amount in
minor units (pence, cents) with a lower-case ISO 4217 currency.

Every field is bounded, because every event's data came from outside at some point: each
string has a maximum length (and, where it reaches an SMS or a calendar, a charset), each
amount a ceiling, each time a year range (so no conversion can overflow) and each slot a
maximum length. A value outside a bound is a schema error, which the runtime treats as
permanent (dead-lettered with the reason), never as a transient failure retried.

Producers and consumers of a type are different agents, deployed over minutes, so the
contract is asymmetric (``docs/agent-contract.md``, "Event contracts"):

- **Producers are strict** (:func:`validate`): data is checked against the version they
  publish with unknown fields refused, so a message carries only what its schema declares.
- **Consumers are tolerant** (:func:`read`): fields they do not know are ignored, inside
  the same bounds as everything else (the 1 MiB data limit of ``envelope.py`` and
  :data:`MAX_DATA_DEPTH`); every field they do know is validated as strictly as ever.
- **Versions roll**: each type declares, here and only here, the versions readers accept
  (:class:`Version`, oldest first, each with the function that upgrades its data to the
  next) and the one producers stamp as ``schema_version``. A message of a version newer
  than the reader knows is a :class:`~switchboard_runtime.errors.TransientError` (Pub/Sub
  retries it until a revision that knows it takes it); an older supported one is upgraded
  on read, so handlers always see the newest model; a retired one is permanent.

``schemas/events/`` holds the JSON Schema of every type and version, generated from these
models (``python -m tools.schemas``) and compared with the base revision by ``make diff``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from switchboard_contract import attributes, event_types

from switchboard_runtime.errors import PermanentError, TransientError

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
    """Base of every event's data: a producer's unknown fields are refused (a reader ignores
    them: :func:`read`); values are strict enough."""

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


SCHEMA_VERSION_ATTRIBUTE = attributes.SCHEMA_VERSION
UNVERSIONED = 1
"""The version of a message without ``schema_version`` (Cloud Scheduler's ticks)."""
MAX_VERSION = 999
MAX_DATA_DEPTH = 16
"""Deepest nesting of objects and arrays in an event's data, known fields or not."""

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Version:
    """One schema version of an event type that readers accept."""

    number: int
    model: type[BaseModel]
    upgrade: Upgrade | None = None
    """This version's data (as JSON) to the next version's; None on the newest."""


@dataclass(frozen=True)
class EventSpec:
    """An event type: its topic, the versions readers accept (oldest first, consecutive)
    and the version producers publish (``publishes``; the newest when None)."""

    type: str
    topic: str
    versions: tuple[Version, ...]
    publishes: int | None = None

    def __post_init__(self) -> None:
        numbers = [v.number for v in self.versions]
        if not numbers or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            raise ValueError(f"{self.type}: versions must be consecutive, oldest first")
        if not (numbers[0] >= 1 and numbers[-1] <= MAX_VERSION):
            raise ValueError(f"{self.type}: versions must be 1..{MAX_VERSION}")
        if any(v.upgrade is None for v in self.versions[:-1]) or self.versions[-1].upgrade:
            raise ValueError(f"{self.type}: every version but the newest needs an upgrade")
        if self.publishes is not None and self.publishes not in numbers:
            raise ValueError(f"{self.type}: publishes version {self.publishes}, not read")

    @property
    def version(self) -> int:
        """The version producers stamp as ``schema_version``."""
        return self.publishes if self.publishes is not None else self.versions[-1].number

    @property
    def model(self) -> type[BaseModel]:
        """The model producers validate against (that of :attr:`version`)."""
        return self.at(self.version).model

    @property
    def supported(self) -> tuple[int, ...]:
        return tuple(v.number for v in self.versions)

    def at(self, number: int) -> Version:
        return self.versions[number - self.versions[0].number]


def one_version(event_type: str, model: type[BaseModel]) -> EventSpec:
    """A type read and published at version 1, on the contract's topic for it."""
    return EventSpec(event_type, event_types.EVENT_TYPES[event_type].topic, (Version(1, model),))


EVENT_TYPES: dict[str, EventSpec] = {
    spec.type: spec
    for spec in (
        one_version("booking.requested", BookingRequested),
        one_version("booking.cancelled", BookingCancelled),
        one_version("booking.confirmed", BookingConfirmed),
        one_version("booking.rejected", BookingRejected),
        one_version("payment.link_created", PaymentLinkCreated),
        one_version("payment.received", PaymentReceived),
        one_version("payment.recorded", PaymentRecorded),
        one_version("notification.requested", NotificationRequested),
        one_version("sms.received", SmsReceived),
        one_version("tick", Tick),
    )
}
"""Every event type and the model of each of its versions (the contract names them)."""

if _differences := event_types.mismatches(
    {name: (spec.topic, spec.supported) for name, spec in EVENT_TYPES.items()}
):
    raise ImportError(
        "switchboard_runtime.events disagrees with switchboard_contract.event_types: "
        + "; ".join(_differences)
    )


def spec_for(event_type: str, registry: Mapping[str, EventSpec] | None = None) -> EventSpec:
    try:
        return (EVENT_TYPES if registry is None else registry)[event_type]
    except KeyError:
        raise PermanentError(f"unknown event type {event_type!r}") from None


def validate(event_type: str, data: Any) -> BaseModel:
    """The producer's check: ``data`` against the published version, unknown fields refused;
    PermanentError naming the bad fields otherwise."""
    spec = spec_for(event_type)
    try:
        return spec.model.model_validate(data, extra="forbid")
    except ValidationError as exc:
        raise PermanentError(f"invalid {event_type} data: {field_errors(exc)}") from exc


def schema_version(text: str | None) -> int:
    """The ``schema_version`` attribute as a number (absent: :data:`UNVERSIONED`)."""
    if text is None or text == "":
        return UNVERSIONED
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_VERSION))):
        raise PermanentError(f"schema_version {text[:20]!r} is not a version number")
    return int(text)


def read(
    event_type: str,
    data: Any,
    version_text: str | None,
    registry: Mapping[str, EventSpec] | None = None,
) -> BaseModel:
    """The consumer's check: ``data`` of ``schema_version`` ``version_text`` as the newest
    model this reader knows. Unknown fields are ignored (within :data:`MAX_DATA_DEPTH`),
    known ones strictly validated; an older supported version is upgraded; a newer one is
    a TransientError (retry: a revision that knows it will take it); a retired one or bad
    data is a PermanentError."""
    spec = spec_for(event_type, registry)
    version = schema_version(version_text)
    supported = spec.supported
    if version > supported[-1]:
        raise TransientError(
            f"{event_type} schema_version {version} is newer than this revision reads "
            f"({_span(supported)}): retrying until a revision that knows it takes it"
        )
    if version < supported[0]:
        raise PermanentError(
            f"{event_type} schema_version {version} is retired (this revision reads "
            f"{_span(supported)})"
        )
    check_depth(data)
    for step in spec.versions[version - supported[0] :]:
        try:
            model = step.model.model_validate(data, extra="ignore")
        except ValidationError as exc:
            raise PermanentError(
                f"invalid {event_type} v{step.number} data: {field_errors(exc)}"
            ) from exc
        if step.upgrade is None:
            return model
        data = step.upgrade(model.model_dump(mode="json", exclude_none=True))
    raise AssertionError("unreachable: the newest version has no upgrade")


def check_depth(data: Any, limit: int = MAX_DATA_DEPTH) -> None:
    """PermanentError when ``data`` nests objects or arrays deeper than ``limit``."""
    level: list[tuple[Any, int]] = [(data, 1)]
    while level:
        value, depth = level.pop()
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    raise PermanentError(f"data is nested deeper than {limit} levels")
                level.append((child, depth + 1))


def _span(versions: tuple[int, ...]) -> str:
    low, high = versions[0], versions[-1]
    return f"v{low}" if low == high else f"v{low}..v{high}"


def field_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in error["loc"]) or "(data)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)[:800]
