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

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _bounded(low: int, high: int, why: str) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high} ({why}), got {value}")
        return value

    return AfterValidator(check)


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


EVENT_TYPE_PATTERN = r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*"
# Pub/Sub topic and subscription ids: start with a letter, 3-255 of [A-Za-z0-9-_.~+%].
# We are stricter (lowercase, dashes) because the id also feeds derived names.
TOPIC_NAME_PATTERN = r"[a-z][a-z0-9-]{2,62}"
# Secret Manager secret ids: [A-Za-z0-9_-]{1,255}; lowercase-dashed keeps env names clean.
SECRET_NAME_PATTERN = r"[a-z][a-z0-9-]{0,62}[a-z0-9]"
ENV_NAME_PATTERN = r"[A-Z][A-Z0-9_]*"
MEMORY_PATTERN = r"(\d+)(Mi|Gi)"

Seconds = int
BackoffSeconds = Annotated[Seconds, _bounded(0, 600, "Pub/Sub retry policy backoff")]
EventType = Annotated[str, _matching(EVENT_TYPE_PATTERN, "a dotted lowercase event type")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class TopicSpec(_Strict):
    """A topic declared once in ``functions/catalogue.yaml``."""

    description: str = Field(min_length=1)
    event_types: tuple[EventType, ...] = Field(min_length=1)


class SecretSpec(_Strict):
    """A Secret Manager secret the fleet may read; values are added out of band."""

    description: str = Field(min_length=1)


class RetryPolicy(_Strict):
    """Pub/Sub retry policy: exponential backoff between redeliveries."""

    minimum_backoff_seconds: BackoffSeconds = 10
    maximum_backoff_seconds: BackoffSeconds = 600

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

    topic: str
    filter: str = ""
    ack_deadline_seconds: Annotated[Seconds, _bounded(10, 600, "Pub/Sub ack deadline limit")] = 60
    retry: RetryPolicy = RetryPolicy()
    max_delivery_attempts: Annotated[int, _bounded(5, 100, "Pub/Sub dead-letter policy limit")] = 5


def _valid_cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(re.fullmatch(r"[0-9*/,\-A-Za-z?]+", f) for f in fields):
        raise ValueError(f"{value!r} is not a five-field unix-cron expression")
    return value


def _valid_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Etc/UTC)") from None
    return value


Cron = Annotated[str, AfterValidator(_valid_cron)]
TimeZone = Annotated[str, AfterValidator(_valid_timezone)]


class ScheduleSpec(_Strict):
    """A Cloud Scheduler job that publishes a tick for this agent to ``topic``."""

    cron: Cron
    timezone: TimeZone = "Etc/UTC"
    topic: str


def memory_mebibytes(memory: str) -> int:
    """``"512Mi"`` -> 512, ``"1Gi"`` -> 1024."""
    match = re.fullmatch(MEMORY_PATTERN, memory)
    if match is None:
        raise ValueError(f"{memory!r} is not a memory size like 256Mi or 1Gi")
    amount, unit = int(match.group(1)), match.group(2)
    return amount * (1024 if unit == "Gi" else 1)


def _valid_memory(value: str) -> str:
    mebibytes = memory_mebibytes(value)
    if not 128 <= mebibytes <= 32 * 1024:
        raise ValueError(f"must be between 128Mi and 32Gi (Cloud Run limit), got {value}")
    return value


def _valid_cpu(value: str) -> str:
    try:
        cpu = float(value)
    except ValueError:
        raise ValueError(f'{value!r} is not a number of vCPUs like "1" or "0.5"') from None
    if not 0.08 <= cpu <= 8:
        raise ValueError(f"must be between 0.083 and 8 vCPUs (Cloud Run limit), got {value}")
    return value


Memory = Annotated[str, AfterValidator(_valid_memory)]
Cpu = Annotated[str, AfterValidator(_valid_cpu)]


class AgentManifest(_Strict):
    """``functions/<agent>/agent.yaml``: everything the platform needs to run one agent."""

    name: str
    description: str = Field(min_length=1)
    platform: Literal["function", "run"]
    entry_point: Annotated[str, _matching(r"[A-Za-z_][A-Za-z0-9_]*", "a Python function name")] = (
        "handle"
    )
    runtime: Literal["python311", "python312", "python313"] = "python312"
    memory: Memory | None = None
    cpu: Cpu | None = None
    timeout_seconds: Annotated[
        Seconds, _bounded(1, 3600, "Cloud Run / Cloud Functions HTTP request timeout")
    ] = 60
    concurrency: Annotated[
        int, _bounded(1, 1000, "Cloud Run max concurrent requests per instance")
    ] = 1
    min_instances: Annotated[int, _bounded(0, 100, "keep-warm instances")] = 0
    max_instances: Annotated[int, _bounded(1, 1000, "Cloud Run max instances")] = 10
    ingress: Literal["internal", "public"] = "internal"
    public_reason: str | None = None
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    publishes: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    schedule: ScheduleSpec | None = None
    env: dict[Annotated[str, _matching(ENV_NAME_PATTERN, "an UPPER_SNAKE env name")], str] = Field(
        default_factory=dict
    )

    @property
    def is_public(self) -> bool:
        return self.ingress == "public"

    def subscription_for(self, topic: str) -> SubscriptionSpec:
        for subscription in self.subscriptions:
            if subscription.topic == topic:
                return subscription
        raise KeyError(f"agent {self.name!r} has no subscription to topic {topic!r}")
