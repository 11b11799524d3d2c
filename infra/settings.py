"""Typed, validated stack settings read from ``Pulumi.<stack>.yaml``.

Every value the program reads from stack configuration goes through :class:`StackSettings`.
A wrong or missing value fails before any resource is declared, with the config key named
(``switchboard:firestore.backups.dailyRetentionDays: must be ...``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from infra.catalogue.model import Memory

NAMESPACE = "switchboard"
PROJECT_ID_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]+-[a-z]+\d$"
DURATION_PATTERN = r"\d+s"
SECRET_VALUE_PREFIX = "secret-"


class SettingsError(ValueError):
    """Stack configuration is missing or invalid; the message names every bad key."""


def _duration(low: int, high: int, why: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(DURATION_PATTERN, value):
            raise ValueError(f"{value!r} is not a duration in seconds like '86400s'")
        seconds = int(value[:-1])
        if not low <= seconds <= high:
            raise ValueError(f"must be between {low}s and {high}s ({why}), got {value}")
        return value

    return AfterValidator(check)


class _Config(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class InstanceSettings(_Config):
    """Scaling guard rails for every agent in the stack."""

    keep_warm: bool = False
    """True: agents keep their manifest's ``min_instances``. False: every agent scales to 0."""
    max_cap: Annotated[int, Field(ge=1, le=1000)] = 10
    """No agent may scale beyond this many instances in this stack."""


class AgentOverride(_Config):
    """Per-stack overrides for one agent (``switchboard:agents.<name>``)."""

    min_instances: Annotated[int, Field(ge=0, le=100)] | None = None
    max_instances: Annotated[int, Field(ge=1, le=1000)] | None = None
    memory: Memory | None = None


class BackupSettings(_Config):
    """Firestore managed backups; 0 disables a schedule. GCP caps: 7 days / 14 weeks."""

    daily_retention_days: Annotated[int, Field(ge=0, le=7)] = 7
    weekly_retention_weeks: Annotated[int, Field(ge=0, le=14)] = 0


class FirestoreSettings(_Config):
    location: str = "eur3"
    point_in_time_recovery: bool = False
    backups: BackupSettings = BackupSettings()


class StackSettings(_Config):
    """Everything a stack configures. Field docs say what each key does."""

    project: Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]
    """``gcp:project``: the GCP project this stack deploys into (one per stack)."""
    region: Annotated[str, Field(pattern=REGION_PATTERN)]
    """``gcp:region``: where functions, services and the scheduler run."""
    stack: str
    environment: Literal["dev", "staging", "prod"]
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    alert_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    deletion_protection: bool = False
    instances: InstanceSettings = InstanceSettings()
    default_memory: Memory = "256Mi"
    topic_message_retention: Annotated[
        str, _duration(600, 31 * 86400, "Pub/Sub topic retention: 10 minutes to 31 days")
    ] = "86400s"
    firestore: FirestoreSettings = FirestoreSettings()
    agents: dict[str, AgentOverride] = Field(default_factory=dict)
    secrets_from_config: tuple[str, ...] = ()
    """Secrets whose value this stack sets with ``pulumi config set --secret
    switchboard:secret-<name> ...`` (names only; values stay in Pulumi's encrypted config)."""

    @field_validator("deletion_protection")
    @classmethod
    def _prod_is_protected(cls, value: bool, info: ValidationInfo) -> bool:
        if info.data.get("environment") == "prod" and not value:
            raise ValueError("must be true in prod (stateful resources must not be deletable)")
        return value

    def config_key(self, field_path: str) -> str:
        return f"{NAMESPACE}:{field_path}"


GCP_KEYS = {"project": "gcp:project", "region": "gcp:region"}


def parse_settings(stack: str, values: Mapping[str, Any]) -> StackSettings:
    """Build settings from flat Pulumi config (``{"gcp:project": ..., "switchboard:x": ...}``).

    Structured values may arrive as JSON strings (that is how the Pulumi engine passes
    them to the program) or already decoded.
    """
    data: dict[str, Any] = {"stack": stack}
    problems: list[str] = []
    from_config: list[str] = []
    for field, key in GCP_KEYS.items():
        if key in values:
            data[field] = values[key]
    for key, raw in values.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        if name.startswith(SECRET_VALUE_PREFIX):
            from_config.append(name.removeprefix(SECRET_VALUE_PREFIX))
            continue
        data[name] = _decode(raw)
    data["secretsFromConfig"] = tuple(sorted(from_config))
    try:
        return StackSettings.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            problems.append(f"  - {_key_for(detail['loc'])}: {_explain(detail)}")
    raise SettingsError(
        f"invalid configuration for stack {stack!r} (Pulumi.{stack}.yaml):\n" + "\n".join(problems)
    )


def _decode(raw: Any) -> Any:
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    if isinstance(raw, str) and raw in ("true", "false"):
        return raw == "true"
    return raw


def _key_for(loc: tuple[Any, ...]) -> str:
    """Error locations come as config aliases already (camelCase), e.g. firestore.backups.x."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in GCP_KEYS:
        return GCP_KEYS[parts[0]]
    return f"{NAMESPACE}:" + ".".join(parts)


def _explain(detail: Any) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required but not set (pulumi config set ...)"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against infra/settings.py)"
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{message} (got {detail.get('input')!r})"


def validate_against_catalogue(
    settings: StackSettings, agent_names: set[str], secret_names: set[str]
) -> None:
    """Per-agent overrides and secret values must name agents and secrets that exist."""
    problems = [
        f"  - {NAMESPACE}:agents.{name}: no such agent (agents: {', '.join(sorted(agent_names))})"
        for name in sorted(set(settings.agents) - agent_names)
    ]
    problems += [
        f"  - {NAMESPACE}:{SECRET_VALUE_PREFIX}{name}: no such secret in functions/catalogue.yaml "
        f"(secrets: {', '.join(sorted(secret_names))})"
        for name in sorted(set(settings.secrets_from_config) - secret_names)
    ]
    if problems:
        raise SettingsError(
            f"invalid configuration for stack {settings.stack!r} (Pulumi.{settings.stack}.yaml):\n"
            + "\n".join(problems)
        )
