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
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from infra.catalogue import env_policy
from infra.catalogue.model import Cron, Memory, TimeZone
from infra.org_policies import BASELINE, OPTIONAL

NAMESPACE = "switchboard"
PROJECT_ID_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]+-[a-z]+\d$"
DURATION_PATTERN = r"\d+s"
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
PUBLIC_URL_PATTERN = rf"^https://{_LABEL}(\.{_LABEL})+(/[A-Za-z0-9._~-]+)*$"
SECRET_VALUE_PREFIX = "secret-"
MAX_AGENT_SETTINGS = 64


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

    check.__doc__ = f"seconds written like `86400s`, {low}s to {high}s ({why})"
    return AfterValidator(check)


class _Config(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,  # field docstrings are the reference's descriptions
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
    """Replaces the manifest's ``min_instances`` in this stack (must be 0 outside prod)."""
    max_instances: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Replaces the manifest's ``max_instances`` in this stack (still capped by
    ``instances.maxCap``)."""
    memory: Memory | None = None
    """Replaces the manifest's ``memory`` in this stack."""
    public_url: Annotated[str, Field(pattern=PUBLIC_URL_PATTERN, max_length=200)] | None = None
    """Where a public agent is reached (its Cloud Run URL or custom domain, ``https://``, no
    trailing slash). Required for a public agent: it verifies webhook signatures (Twilio's)
    against this URL, never against the request's own Host header."""


class BackupSettings(_Config):
    """Firestore managed backups (``gcp.firestore.BackupSchedule``); 0 disables a schedule.

    A database has at most one daily and one weekly schedule. The daily cap of 7 days is
    this project's rule (docs/architecture.md); GCP's own ceiling for any schedule's
    retention is 14 weeks. Longer retention comes from scheduled exports."""

    daily_retention_days: Annotated[int, Field(ge=0, le=7)] = 7
    """Days each daily backup is kept; 0: no daily schedule (at least 1 in prod)."""
    weekly_retention_weeks: Annotated[int, Field(ge=0, le=14)] = 0
    """Weeks each weekly backup is kept; 0: no weekly schedule."""
    weekly_day: Literal[
        "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"
    ] = "SUNDAY"
    """The day the weekly backup is taken."""


class ExportSettings(_Config):
    """Scheduled managed exports to a bucket, for retention beyond managed backups."""

    enabled: bool = True
    """Whether exports run at all (must be true in prod)."""
    schedule: Cron = "0 3 * * *"
    """Five-field unix-cron, in ``timeZone``."""
    time_zone: TimeZone = "Etc/UTC"
    """The time zone ``schedule`` is read in."""
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Export objects are deleted (bucket lifecycle rule) this many days after creation."""
    minimum_retention_days: Annotated[int, Field(ge=0, le=3650)] = 0
    """Bucket retention policy: no export can be deleted or overwritten before this age.
    0 = no retention policy."""
    lock_retention_policy: bool = False
    """Lock the retention policy (Bucket Lock). IRREVERSIBLE: once a ``pulumi up`` has
    locked it, nobody (Pulumi included) can remove or shorten ``minimumRetentionDays``
    again, and the bucket cannot be deleted before its newest export is that old. Needs
    ``minimumRetentionDays`` > 0."""
    audit_data_access: bool = False
    """Cloud Storage Data Access audit logs (DATA_READ, DATA_WRITE) for the project: who
    read or wrote an export. Project-wide for storage.googleapis.com (an audit config has
    no finer resource), so the agent-sources bucket's build reads are logged too."""

    @field_validator("minimum_retention_days")
    @classmethod
    def _not_beyond_lifecycle(cls, value: int, info: ValidationInfo) -> int:
        retention = info.data.get("retention_days")
        if retention is not None and value > retention:
            raise ValueError(
                f"must not exceed retentionDays ({retention}): the lifecycle rule could "
                "never delete what the retention policy still holds"
            )
        return value

    @field_validator("lock_retention_policy")
    @classmethod
    def _lock_needs_a_policy(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("minimum_retention_days"):
            raise ValueError("needs minimumRetentionDays > 0 (there is no policy to lock)")
        return value


class FirestoreSettings(_Config):
    """The stack's Firestore database (``switchboard:firestore``)."""

    location: str = "eur3"
    """The database's location (a multi-region such as ``eur3`` or a region); fixed once
    the database exists."""
    point_in_time_recovery: bool = False
    """Point-in-time recovery: 7 days of recoverable reads (must be true in prod)."""
    backups: BackupSettings = BackupSettings()
    """Managed backups (daily and weekly schedules)."""
    exports: ExportSettings = ExportSettings()
    """Scheduled managed exports to a bucket (retention beyond backups)."""


Ratio = Annotated[float, Field(gt=0, le=1)]


class AlertThresholds(_Config):
    """Alert thresholds; stack defaults under ``monitoring``, per agent under
    ``monitoring.agents.<name>`` (only the keys given there override)."""

    backlog_age_seconds: Annotated[int, Field(ge=60, le=7 * 86400)] | None = None
    """Oldest unacked message on a push subscription older than this -> alert."""
    error_ratio: Ratio | None = None
    """Share of requests answered 5xx (over ``windowSeconds``) above this -> alert."""
    latency_fraction_of_timeout: Ratio | None = None
    """p99 request latency above this fraction of the agent's timeout -> alert."""


class MonitoringSettings(_Config):
    """Alerting and the dashboard (``switchboard:monitoring``)."""

    backlog_age_seconds: Annotated[int, Field(ge=60, le=7 * 86400)] = 600
    """Oldest unacked message on a push subscription older than this -> alert."""
    error_ratio: Ratio = 0.05
    """Share of requests answered 5xx (over ``windowSeconds``) above this -> alert."""
    latency_fraction_of_timeout: Ratio = 0.8
    """p99 request latency above this fraction of the agent's timeout -> alert."""
    dead_letter_threshold: Annotated[int, Field(ge=0)] = 0
    """Alert when a dead-letter subscription holds more than this many messages."""
    window_seconds: Annotated[int, Field(ge=60, le=3600)] = 300
    """How long a condition must hold (and the rate/percentile window)."""
    auto_close_seconds: Annotated[int, Field(ge=1800, le=7 * 86400)] = 86400
    """An open incident whose condition no longer holds is closed after this long."""
    runbook_base_url: Annotated[str, Field(pattern=r"^https://\S+$")] | None = None
    """Where docs/runbooks/ is browsable (e.g. ``https://github.com/o/r/blob/main/docs/runbooks``);
    unset: alerts cite the repository-relative path."""
    agents: dict[str, AlertThresholds] = Field(default_factory=dict)
    """Per agent (its name as key), the thresholds that differ from the stack's."""

    def for_agent(self, name: str) -> ResolvedThresholds:
        override = self.agents.get(name) or AlertThresholds()
        return ResolvedThresholds(
            backlog_age_seconds=override.backlog_age_seconds or self.backlog_age_seconds,
            error_ratio=override.error_ratio or self.error_ratio,
            latency_fraction_of_timeout=(
                override.latency_fraction_of_timeout or self.latency_fraction_of_timeout
            ),
        )


class ResolvedThresholds(_Config):
    backlog_age_seconds: int
    error_ratio: float
    latency_fraction_of_timeout: float


class NetworkSettings(_Config):
    """Opt-in VPC egress with a static NAT address (``switchboard:network``)."""

    egress_via_vpc: bool = False
    """Agents send all egress through a VPC subnet and Cloud NAT with a static address
    (for partners that allow-list source IPs)."""
    subnet_cidr: Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/(2[0-6]|1\d)$")] = (
        "10.8.0.0/24"
    )
    """The subnet agents egress from (Direct VPC egress needs at least a /26)."""
    flow_logs: bool = False
    """VPC flow logs on the egress subnet (5-second aggregation, half the flows sampled,
    metadata included): which agent talked to which address. Billed by log volume."""


class BudgetSettings(_Config):
    """An optional billing budget (``switchboard:budget``); off without a billing account."""

    billing_account: (
        Annotated[str, Field(pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")] | None
    ) = None
    """The billing account the budget is created on; unset: no budget."""
    amount: Annotated[int, Field(ge=1)] = 100
    """Monthly budget, whole units of ``currencyCode`` (must be the billing account's)."""
    currency_code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    """ISO 4217 code of ``amount`` (the billing account's currency)."""
    thresholds: tuple[Annotated[float, Field(gt=0, le=2)], ...] = (0.5, 0.9, 1.0)
    """Fractions of ``amount`` whose crossing sends a budget alert."""


class LoggingSettings(_Config):
    """The project's logs (``switchboard:logging``)."""

    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """Retention of the project's ``_Default`` log bucket (above 30 days is billed)."""


MAX_CONSTRAINTS = 50
MAX_DOMAINS = 20


class OrganizationPolicySettings(_Config):
    """What this stack's organisation enforces besides Google's secure-by-default bundle
    (``switchboard:organizationPolicies``, see infra/org_policies.py). The preflight
    (``make preflight``) refuses what the resulting set would refuse."""

    relax: tuple[str, ...] = ()
    """Bundle constraints the organisation (or this project) does not enforce."""
    add: tuple[str, ...] = ()
    """Constraints beyond the bundle that the organisation enforces (only those the
    preflight models)."""
    allowed_domains: tuple[
        Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)+$")], ...
    ] = ()
    """The organisation's domains (Domain restricted sharing and contacts): user:, group:
    and domain: members and contact emails outside them are refused. Empty: any such
    member is reported, since the preflight cannot tell it is inside."""

    @field_validator("relax", "add", "allowed_domains")
    @classmethod
    def _bounded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_CONSTRAINTS:
            raise ValueError(f"at most {MAX_CONSTRAINTS} entries, got {len(value)}")
        return value

    @field_validator("relax")
    @classmethod
    def _relax_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _known_constraints(value, BASELINE, "secure-by-default constraints")

    @field_validator("add")
    @classmethod
    def _add_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        enforced = sorted(set(value) & set(BASELINE))
        if enforced:
            raise ValueError(
                f"{', '.join(enforced)}: already enforced by default (remove it from add)"
            )
        return _known_constraints(value, OPTIONAL, "constraints the preflight models")

    def enforced(self) -> frozenset[str]:
        """The constraint names this stack's organisation enforces."""
        return frozenset((set(BASELINE) - set(self.relax)) | set(self.add))


def _known_constraints(
    value: tuple[str, ...], known: Mapping[str, object], what: str
) -> tuple[str, ...]:
    names = [name.removeprefix("constraints/") for name in value]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown constraint {', '.join(map(repr, unknown))} ({what}: "
            f"{', '.join(sorted(known))})"
        )
    return tuple(names)


SECRET_FROM_CONFIG = "config"
SECRET_EXTERNAL = "external"
EXTERNAL_VERSION = re.compile(r"^external:([1-9][0-9]{0,6})$")


class SecretSource(BaseModel):
    """Where one secret's value comes from (``switchboard:secrets.<name>``).

    - ``config``: Pulumi's encrypted config ``switchboard:secret-<name>``; the same
      ``pulumi up`` adds it as a Secret Manager version, and every workload reading the
      secret pins that version and waits for it.
    - ``external:<N>``: the secret and its version N are managed out of band
      (``gcloud secrets create/versions add``); the program checks that version N exists
      and is enabled before it declares anything, and workloads pin version N. Rotation
      is a reviewed change of N.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["config", "external"]
    version: str | None = None
    """The pinned version number of an external secret."""

    @classmethod
    def parse(cls, value: Any) -> SecretSource:
        if isinstance(value, SecretSource):
            return value
        if value == SECRET_FROM_CONFIG:
            return cls(kind="config")
        match = EXTERNAL_VERSION.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(
                "must be 'config' (value from `pulumi config set --secret "
                f"{NAMESPACE}:{SECRET_VALUE_PREFIX}<name>`) or 'external:<version number>' "
                "(a version added out of band, e.g. 'external:1')"
            )
        return cls(kind="external", version=match.group(1))

    def __str__(self) -> str:
        return self.kind if self.version is None else f"{self.kind}:{self.version}"


def _empty_if_none(value: Any) -> Any:
    return {} if value is None else value


class StackSettings(_Config):
    """Everything a stack configures. Field docs say what each key does."""

    project: Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]
    """``gcp:project``: the GCP project this stack deploys into (one per stack)."""
    region: Annotated[str, Field(pattern=REGION_PATTERN)]
    """``gcp:region``: where functions, services and the scheduler run."""
    stack: str
    """The stack's name (``pulumi stack``), not a config key: the program sets it."""
    environment: Literal["dev", "staging", "prod"]
    """What the stack is: labels every resource, is passed to agents
    (``SWITCHBOARD_ENVIRONMENT``) and decides which guards apply (prod's are strictest)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Agents' ``LOG_LEVEL``."""
    alert_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    """Where alerts are emailed (the monitoring notification channel)."""
    deletion_protection: bool = False
    """Deletion protection on what holds state or serves traffic (the Firestore database
    and its exports, the network, secrets, agents' services); must be true in prod."""
    instances: InstanceSettings = InstanceSettings()
    """Scaling guard rails for every agent."""
    default_memory: Memory = "256Mi"
    """Memory of an agent whose manifest names none."""
    topic_message_retention: Annotated[
        str, _duration(600, 31 * 86400, "Pub/Sub topic retention: 10 minutes to 31 days")
    ] = "86400s"
    """How long every topic keeps published messages (acked or not) for replay."""
    firestore: FirestoreSettings = FirestoreSettings()
    """The Firestore database, its backups and exports."""
    monitoring: MonitoringSettings = MonitoringSettings()
    """Alerting and the dashboard."""
    network: NetworkSettings = NetworkSettings()
    """Opt-in VPC egress with a static NAT address."""
    budget: BudgetSettings = BudgetSettings()
    """An optional billing budget."""
    logging: LoggingSettings = LoggingSettings()
    """The project's logs."""
    organization_policies: OrganizationPolicySettings = OrganizationPolicySettings()
    """What the organisation enforces besides Google's secure-by-default bundle."""
    agents: dict[str, Annotated[AgentOverride, BeforeValidator(_empty_if_none)]] = Field(
        default_factory=dict
    )
    """Per-agent overrides; an agent key left with nothing under it overrides nothing."""
    agent_settings: dict[Annotated[str, Field(max_length=64)], Any] = Field(
        default_factory=dict, max_length=MAX_AGENT_SETTINGS
    )
    """``switchboard:agentSettings``: the values of the per-stack settings agents declare
    under ``settings:`` in their manifests (``CALENDAR_ID``, ``TWILIO_FROM_NUMBER``...),
    one value per stack, each checked against its pattern in
    ``infra/catalogue/env_policy.py``."""
    secrets: dict[str, Annotated[SecretSource, BeforeValidator(SecretSource.parse)]] = Field(
        default_factory=dict
    )
    """Per secret, where its value comes from: ``config`` (Pulumi's encrypted config
    ``switchboard:secret-<name>``) or ``external:<N>`` (version N, added out of band); see
    :class:`SecretSource`."""
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
        settings = StackSettings.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            problems.append(f"  - {_key_for(detail['loc'])}: {_explain(detail)}")
    else:
        problems = [f"  - {NAMESPACE}:{key}: {why}" for key, why in stack_policy(settings)]
        if not problems:
            return settings
    raise SettingsError(
        f"invalid configuration for stack {stack!r} (Pulumi.{stack}.yaml):\n" + "\n".join(problems)
    )


def stack_policy(settings: StackSettings) -> list[tuple[str, str]]:
    """Rules across keys (cost and safety guards): (config key, why) per violation."""
    problems: list[tuple[str, str]] = []
    prod = settings.environment == "prod"
    if settings.instances.keep_warm and not prod:
        problems.append(
            (
                "instances.keepWarm",
                f"must be false outside prod (min instances stay 0 in {settings.environment}: "
                "idle instances are billed)",
            )
        )
    if prod and not settings.firestore.point_in_time_recovery:
        problems.append(
            ("firestore.pointInTimeRecovery", "must be true in prod (7 days of recoverable reads)")
        )
    if prod and not settings.firestore.backups.daily_retention_days:
        problems.append(
            ("firestore.backups.dailyRetentionDays", "must be at least 1 in prod (daily backups)")
        )
    if prod and not settings.firestore.exports.enabled:
        problems.append(("firestore.exports.enabled", "must be true in prod (long retention)"))
    for name, value in sorted(settings.agent_settings.items()):
        why = env_policy.value_refusal(name, value)
        if why is not None:
            problems.append((f"agentSettings.{name}", why))
    return problems


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
    settings: StackSettings,
    agent_names: set[str],
    secret_names: set[str],
    setting_readers: Mapping[str, list[str]] | None = None,
) -> None:
    """Per-agent overrides and secret values must name agents and secrets that exist;
    every per-stack setting an agent declares has a value, and every value is declared."""
    problems = agent_settings_problems(settings, setting_readers or {})
    problems += [
        f"  - {NAMESPACE}:agents.{name}: no such agent (agents: {', '.join(sorted(agent_names))})"
        for name in sorted(set(settings.agents) - agent_names)
    ]
    problems += [
        f"  - {NAMESPACE}:monitoring.agents.{name}: no such agent "
        f"(agents: {', '.join(sorted(agent_names))})"
        for name in sorted(set(settings.monitoring.agents) - agent_names)
    ]
    if settings.environment != "prod":
        problems += [
            f"  - {NAMESPACE}:agents.{name}.minInstances: must be 0 outside prod "
            f"(got {override.min_instances}; idle instances are billed)"
            for name, override in sorted(settings.agents.items())
            if override.min_instances and name in agent_names
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


def validate_secret_sources(settings: StackSettings, readers: Mapping[str, list[str]]) -> None:
    """Every secret an agent reads has a value source, and each source is complete.

    ``readers`` maps every catalogue secret to the agents that read it. Raises
    :class:`SettingsError` naming the secret, its readers and the command that fixes it.
    """
    stack, project = settings.stack, settings.project
    problems: list[str] = []
    for name in sorted(set(settings.secrets) - set(readers)):
        problems.append(
            f"  - {NAMESPACE}:secrets.{name}: no such secret in functions/catalogue.yaml "
            f"(secrets: {', '.join(sorted(readers))})"
        )
    for name, agents in sorted(readers.items()):
        source = settings.secrets.get(name)
        has_value = name in settings.secrets_from_config
        who = f"read by {', '.join(sorted(agents))}" if agents else "read by no agent"
        if source is None:
            if not agents:
                continue  # declared, read by nobody: no revision waits for a version
            problems.append(
                f"  - {NAMESPACE}:secrets.{name}: no value source ({who}). Either keep the "
                "value in Pulumi's encrypted config:\n"
                f"      pulumi config set --stack {stack} --path "
                f"'{NAMESPACE}:secrets[\"{name}\"]' config\n"
                f"      pulumi config set --stack {stack} --secret "
                f"{NAMESPACE}:{SECRET_VALUE_PREFIX}{name} <value>\n"
                "    or manage it out of band and pin its version:\n"
                f'      printf %s "$VALUE" | gcloud secrets create {name} '
                f"--replication-policy=automatic --data-file=- --project {project}\n"
                f"      pulumi config set --stack {stack} --path "
                f"'{NAMESPACE}:secrets[\"{name}\"]' external:1"
            )
        elif source.kind == SECRET_FROM_CONFIG and not has_value:
            problems.append(
                f"  - {NAMESPACE}:{SECRET_VALUE_PREFIX}{name}: required by "
                f"{NAMESPACE}:secrets.{name} = config ({who}) but not set:\n"
                f"      pulumi config set --stack {stack} --secret "
                f"{NAMESPACE}:{SECRET_VALUE_PREFIX}{name} <value>"
            )
        elif source.kind == SECRET_EXTERNAL and has_value:
            problems.append(
                f"  - {NAMESPACE}:{SECRET_VALUE_PREFIX}{name}: set, but "
                f"{NAMESPACE}:secrets.{name} = {source} says the value is managed out of "
                "band: remove one of the two"
            )
    if problems:
        raise SettingsError(
            f"invalid configuration for stack {stack!r} (Pulumi.{stack}.yaml), secrets:\n"
            + "\n".join(problems)
        )


class ExternalSecretMissingError(SettingsError):
    """An ``external:<N>`` secret version that does not exist (or was destroyed)."""


def external_secret_problem(
    settings: StackSettings, name: str, readers: list[str], why: str
) -> str:
    """The message for an external secret whose pinned version cannot be read."""
    source = settings.secrets[name]
    return (
        f"  - {NAMESPACE}:secrets.{name} = {source}: {why} (read by "
        f"{', '.join(sorted(readers)) or 'no agent'}). Add it before `pulumi up`:\n"
        f'      printf %s "$VALUE" | gcloud secrets create {name} '
        f"--replication-policy=automatic --data-file=- --project {settings.project}\n"
        f'      (or, if the secret exists: printf %s "$VALUE" | gcloud secrets versions add '
        f"{name} --data-file=- --project {settings.project})\n"
        f"    and pin the version it prints: pulumi config set --stack {settings.stack} "
        f"--path '{NAMESPACE}:secrets[\"{name}\"]' external:<version>"
    )


def agent_settings_problems(settings: StackSettings, readers: Mapping[str, list[str]]) -> list[str]:
    """``switchboard:agentSettings`` against what the agents declare (``readers``: setting
    name -> the agents listing it under ``settings:``), one line per problem."""
    key = env_policy.STACK_SETTINGS_KEY
    problems: list[str] = []
    for name, agents in sorted(readers.items()):
        if name in settings.agent_settings:
            continue
        setting = env_policy.ALLOWED_SETTINGS.get(name)
        example = setting.example if setting and setting.example else "<value>"
        what = setting.description if setting else name
        problems.append(
            f"  - {key}.{name}: required (declared under settings: by "
            f"{', '.join(agents)}) but not set; {what}. Add to Pulumi.{settings.stack}.yaml:\n"
            f"      {key}:\n"
            f'        {name}: "{example}"'
        )
    problems += [
        f"  - {key}.{name}: no agent declares it under settings: (declared: "
        f"{', '.join(sorted(readers)) or 'none'}); remove it or add it to an agent's manifest"
        for name in sorted(set(settings.agent_settings) - set(readers))
    ]
    return problems
