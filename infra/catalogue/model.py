"""The shape of the agent catalogue: what a manifest may say, with GCP's limits.

Field-level limits live here (each one says which GCP rule it mirrors); rules that need
more than one field or more than one file live in :mod:`infra.catalogue.rules`.
Unknown fields are rejected, so nothing outside this schema (an IAM role, say) can be
smuggled in through a manifest.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator

from infra.catalogue.cron import CronError, check_cron
from infra.catalogue.env_policy import ENV_NAME_PATTERN
from infra.catalogue.errors import excerpt


def _bounded(low: int, high: int, why: str) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high} ({why}), got {value}")
        return value

    check.__doc__ = f"{low} to {high} ({why})"
    return AfterValidator(check)


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{excerpt(value)} is not {what}")
        return value

    check.__doc__ = f"{what}: matches `{pattern}`"
    return AfterValidator(check)


EVENT_TYPE_PATTERN = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*"
# Pub/Sub topic and subscription ids: start with a letter, 3-255 of [A-Za-z0-9-_.~+%].
# We are stricter (lowercase, dashes) because the id also feeds derived names.
TOPIC_NAME_PATTERN = r"[a-z][a-z0-9-]{2,62}"
# Secret Manager secret ids: [A-Za-z0-9_-]{1,255}; lowercase-dashed keeps env names clean.
SECRET_NAME_PATTERN = r"[a-z][a-z0-9-]{0,62}[a-z0-9]"
# Canonical sizes only: no leading zeros, no other units (``0128Mi`` is refused).
MEMORY_PATTERN = r"([1-9][0-9]{0,5})(Mi|Gi)"
# Cloud Run / Cloud Functions (2nd gen) vCPUs: 0.08-1 in steps of 0.001, or a whole 1, 2,
# 4, 6 or 8 (https://cloud.google.com/run/docs/configuring/services/cpu). Written
# canonically: "0.5", "0.083", "1" (not "1.0", "1e0", ".5" or "0.50").
CPU_FRACTION_PATTERN = r"0\.[0-9]{0,2}[1-9]"
CPU_WHOLE = ("1", "2", "4", "6", "8")
MAX_TEXT_CHARS = 1000
MAX_LIST_ITEMS = 32

Int = Annotated[int, Strict()]
Seconds = Int
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
Name = Annotated[str, Field(max_length=100)]
BackoffSeconds = Annotated[Seconds, _bounded(0, 600, "Pub/Sub retry policy backoff")]
EventType = Annotated[str, _matching(EVENT_TYPE_PATTERN, "a dotted lowercase event type")]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        use_attribute_docstrings=True,  # field docstrings are the reference's descriptions
    )


class TopicSpec(_Strict):
    """A topic declared once in ``functions/catalogue.yaml``."""

    description: Text
    """What the topic carries, in a sentence."""
    event_types: tuple[EventType, ...] = Field(min_length=1, max_length=MAX_LIST_ITEMS)
    """The event types published to it (each with its model in ``events.py``); filters on
    the topic may only name these."""
    terminal: tuple[EventType, ...] = Field(default=(), max_length=MAX_LIST_ITEMS)
    """Event types no subscription needs to receive (a record of fact, an audit trail):
    ``make preflight`` does not ask for a receiver of these."""

    @model_validator(mode="after")
    def _terminal_declared(self) -> TopicSpec:
        unknown = [t for t in self.terminal if t not in self.event_types]
        if unknown:
            raise ValueError(f"terminal types {unknown} are not among this topic's event_types")
        return self


class SecretSpec(_Strict):
    """A Secret Manager secret the fleet may read; values are added out of band."""

    description: Text
    """What the secret is, in a sentence (also the secret's description in GCP)."""


class RetryPolicy(_Strict):
    """Pub/Sub retry policy: exponential backoff between redeliveries."""

    minimum_backoff_seconds: BackoffSeconds = 10
    """Wait before the first redelivery of a message that was not acked."""
    maximum_backoff_seconds: BackoffSeconds = 600
    """The longest wait between redeliveries (the backoff doubles up to it)."""

    @model_validator(mode="after")
    def _ordered(self) -> RetryPolicy:
        if self.minimum_backoff_seconds > self.maximum_backoff_seconds:
            raise ValueError(
                f"minimum_backoff_seconds ({self.minimum_backoff_seconds}) is greater than "
                f"maximum_backoff_seconds ({self.maximum_backoff_seconds})"
            )
        return self


class SubscriptionSpec(_Strict):
    """One topic an agent consumes through its own filtered push subscription."""

    topic: Name
    """The topic consumed, declared in ``functions/catalogue.yaml``."""
    filter: Annotated[str, Field(max_length=MAX_TEXT_CHARS)] = ""
    """Pub/Sub filter syntax (``attributes.type = "booking.confirmed"``), checked before
    deploy; may only name the topic's event types. Empty: every message."""
    ack_deadline_seconds: Annotated[Seconds, _bounded(10, 600, "Pub/Sub ack deadline limit")] = 60
    """How long Pub/Sub waits for the agent's answer before redelivering; the agent's
    ``timeout_seconds`` must not exceed it."""
    retry: RetryPolicy = RetryPolicy()
    """Exponential backoff between redeliveries."""
    max_delivery_attempts: Annotated[Int, _bounded(5, 100, "Pub/Sub dead-letter policy limit")] = 5
    """Deliveries before the message goes to the subscription's dead-letter topic."""


def _valid_cron(value: str) -> str:
    """a five-field unix-cron expression (`*/15 * * * *`)"""
    try:
        return check_cron(value)
    except CronError as error:
        raise ValueError(
            f"{excerpt(value)} is not a five-field unix-cron expression: {error}"
        ) from None


def _valid_timezone(value: str) -> str:
    """an IANA time zone (`Etc/UTC`, `Europe/London`)"""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{excerpt(value)} is not an IANA time zone (e.g. Etc/UTC)") from None
    return value


Cron = Annotated[str, AfterValidator(_valid_cron)]
TimeZone = Annotated[str, AfterValidator(_valid_timezone)]


class ScheduleSpec(_Strict):
    """A Cloud Scheduler job that publishes a tick for this agent to ``topic``."""

    cron: Cron
    """When the tick is published."""
    timezone: TimeZone = "Etc/UTC"
    """The time zone ``cron`` is read in."""
    topic: Name
    """The topic the tick is published to (the agent subscribes to it)."""


def memory_mebibytes(memory: str) -> int:
    """``"512Mi"`` -> 512, ``"1Gi"`` -> 1024."""
    match = re.fullmatch(MEMORY_PATTERN, memory)
    if match is None:
        raise ValueError(f"{excerpt(memory)} is not a memory size like 256Mi or 1Gi")
    amount, unit = int(match.group(1)), match.group(2)
    return amount * (1024 if unit == "Gi" else 1)


def _valid_memory(value: str) -> str:
    """128Mi to 32Gi (Cloud Run limit), written `256Mi` or `1Gi`"""
    mebibytes = memory_mebibytes(value)
    if not 128 <= mebibytes <= 32 * 1024:
        raise ValueError(f"must be between 128Mi and 32Gi (Cloud Run limit), got {value}")
    return value


def _valid_cpu(value: str) -> str:
    """vCPUs (Cloud Run): 0.08 to 0.999 written like `"0.5"` or `"0.083"`, or a whole
    `"1"`, `"2"`, `"4"`, `"6"` or `"8"`"""
    if value in CPU_WHOLE:
        return value
    if re.fullmatch(CPU_FRACTION_PATTERN, value) and float(value) >= 0.08:
        return value
    raise ValueError(
        f"{excerpt(value)} is not a Cloud Run vCPU count: 0.08 to 0.999 written like "
        f'"0.5" or "0.083", or one of {", ".join(CPU_WHOLE)}'
    )


Memory = Annotated[str, AfterValidator(_valid_memory)]
Cpu = Annotated[str, AfterValidator(_valid_cpu)]


class AgentManifest(_Strict):
    """``functions/<agent>/agent.yaml``: everything the platform needs to run one agent."""

    name: Name
    """The agent's name: its folder under ``functions/`` (the loader checks they match)."""
    description: Text
    """What it does, in one sentence."""
    platform: Literal["function", "run"]
    """Cloud Functions (2nd gen) or Cloud Run (higher concurrency, longer timeouts)."""
    entry_point: Annotated[
        str, _matching(r"[A-Za-z_][A-Za-z0-9_]{0,63}", "a Python function name")
    ] = "handle"
    """The function in the agent's ``main.py`` that receives requests."""
    runtime: Literal["python311", "python312", "python313"] = "python312"
    """The Python runtime it is deployed on."""
    memory: Memory | None = None
    """Memory per instance; unset: the stack's ``defaultMemory``."""
    cpu: Cpu | None = None
    """vCPUs per instance; unset: the platform's default for the memory. ``concurrency``
    above 1 needs at least ``"1"``."""
    timeout_seconds: Annotated[
        Seconds, _bounded(1, 3600, "Cloud Run / Cloud Functions HTTP request timeout")
    ] = 60
    """Request timeout; must not exceed any subscription's ``ack_deadline_seconds``."""
    concurrency: Annotated[
        Int, _bounded(1, 1000, "Cloud Run max concurrent requests per instance")
    ] = 1
    """Requests one instance serves at once (above 1 needs ``cpu: "1"``)."""
    min_instances: Annotated[Int, _bounded(0, 100, "keep-warm instances")] = 0
    """Instances kept warm, only where the stack keeps agents warm
    (``instances.keepWarm``); elsewhere 0."""
    max_instances: Annotated[Int, _bounded(1, 1000, "Cloud Run max instances")] = 10
    """Most instances it scales to, capped by the stack's ``instances.maxCap``."""
    ingress: Literal["internal", "public"] = "internal"
    """``public`` (``platform: run`` only) lets anyone on the internet reach it; then
    ``public_reason`` is required."""
    public_reason: Text | None = None
    """Why it is public and how its requests are verified (a webhook signature, say)."""
    firestore: Annotated[bool, Strict()] = False
    """Whether the agent's service account may use Firestore (``roles/datastore.user``).
    Off unless asked for; agents with subscriptions must ask (their claims live there)."""
    subscriptions: tuple[SubscriptionSpec, ...] = Field(default=(), max_length=MAX_LIST_ITEMS)
    """The topics it consumes, each through its own filtered push subscription with a
    dead-letter topic."""
    publishes: tuple[Name, ...] = Field(default=(), max_length=MAX_LIST_ITEMS)
    """The only topics it may publish to (declared in ``functions/catalogue.yaml``)."""
    secrets: tuple[Name, ...] = Field(default=(), max_length=MAX_LIST_ITEMS)
    """Secrets it reads, declared in ``functions/catalogue.yaml``; each arrives as an
    environment variable (``stripe-api-key`` -> ``STRIPE_API_KEY``)."""
    schedule: ScheduleSpec | None = None
    """A Cloud Scheduler job publishing a tick for it (optional)."""
    env: dict[
        Annotated[str, _matching(ENV_NAME_PATTERN, "an UPPER_SNAKE env name of at most 64 chars")],
        Annotated[str, Field(max_length=MAX_TEXT_CHARS)],
    ] = Field(default_factory=dict, max_length=MAX_LIST_ITEMS)
    """Fixed environment variables, allow-listed settings only
    (``infra/catalogue/env_policy.py``)."""
    settings: tuple[
        Annotated[str, _matching(ENV_NAME_PATTERN, "an UPPER_SNAKE env name of at most 64 chars")],
        ...,
    ] = Field(default=(), max_length=MAX_LIST_ITEMS)
    """Per-stack settings the agent reads as environment variables (``CALENDAR_ID``): names
    only; each stack gives the values (``switchboard:agentSettings`` in
    ``Pulumi.<stack>.yaml``), the local platform from ``localdev/settings.yaml``."""

    @property
    def is_public(self) -> bool:
        return self.ingress == "public"

    def subscription_for(self, topic: str) -> SubscriptionSpec:
        for subscription in self.subscriptions:
            if subscription.topic == topic:
                return subscription
        raise KeyError(f"agent {self.name!r} has no subscription to topic {topic!r}")
