"""What an agent gets, as plain data: sizes, environment and IAM grants.

Pure functions of the catalogue and the stack settings (no Pulumi), so they can be
tested and reviewed directly; :class:`infra.agent.component.Agent` turns a plan into
resources one-to-one. Every IAM grant an agent causes is listed in ``AgentPlan.grants``,
dead-letter grants included: it is the one book the components read (each declares the
grants on the resources it holds, :mod:`infra.agent.grants`), and how "exactly these
grants, no more" is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from switchboard_contract.environment import Place, agent_environment

from infra.catalogue import Catalogue, Consumer, naming
from infra.catalogue.agent_facts import agent_facts
from infra.catalogue.env_policy import STACK_SETTINGS_KEY
from infra.settings import SettingsError, StackSettings

Member = Literal["agent", "invoker", "pubsub-service-agent"]
"""Who a grant goes to. Never ``allUsers``: a public agent is public because its Cloud
Run service's invoker IAM check is disabled (``AgentPlan.invoker_iam_disabled``)."""
ResourceKind = Literal["topic", "secret", "project", "service", "service-account", "subscription"]

ROLE_PUBLISHER = "roles/pubsub.publisher"
ROLE_SUBSCRIBER = "roles/pubsub.subscriber"
ROLE_SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
ROLE_DATASTORE_USER = "roles/datastore.user"
ROLE_RUN_INVOKER = "roles/run.invoker"
ROLE_TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})


@dataclass(frozen=True, order=True)
class Grant:
    """``member`` gets ``role`` on one resource (``kind``/``resource``), as the IAM member
    resource ``name`` (its name in the stack: a new name would replace the grant)."""

    kind: ResourceKind
    resource: str
    role: str
    member: Member
    name: str
    why: str = ""

    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.resource, self.role, self.member)


@dataclass(frozen=True)
class AgentPlan:
    name: str
    platform: Literal["function", "run"]
    entry_point: str
    runtime: str
    memory: str
    cpu: str | None
    timeout_seconds: int
    concurrency: int
    min_instances: int
    max_instances: int
    public: bool
    env: dict[str, str]
    secret_env: dict[str, str]
    consumers: tuple[Consumer, ...]
    grants: tuple[Grant, ...]

    @property
    def invoker_iam_disabled(self) -> bool:
        """A public agent answers callers without Google credentials (webhooks) by
        disabling Cloud Run's invoker IAM check on its service, not by granting
        ``allUsers`` run.invoker: Domain Restricted Sharing (enforced in organisations
        created since 2024-05-03) refuses ``allUsers``, and Cloud Run documents this as the
        remedy (https://cloud.google.com/run/docs/securing/managing-access#invoker_check).
        The agent authenticates every request itself (its ``public_reason``)."""
        return self.public

    @property
    def service_account_id(self) -> str:
        return naming.service_account_id(self.name)

    @property
    def invoker_account_id(self) -> str | None:
        return naming.invoker_account_id(self.name) if self.consumers else None


def _public_url(settings: StackSettings, name: str) -> str:
    """A public agent's URL from the stack (it checks webhook signatures against it)."""
    override = settings.agents.get(name)
    if override is None or not override.public_url:
        raise SettingsError(
            f"invalid configuration for stack {settings.stack!r} (Pulumi.{settings.stack}.yaml):"
            f"\n  - switchboard:agents.{name}.publicUrl: required for the public agent {name!r} "
            "(webhook signatures are checked against it). Its Cloud Run URL is known before "
            f"the first deploy: https://{name}-<project number>.{settings.region}.run.app "
            f"(gcloud projects describe {settings.project} --format='value(projectNumber)'), "
            "or give your own domain. Add to the stack file:\n"
            "      switchboard:agents:\n"
            f"        {name}:\n"
            f"          publicUrl: https://{name}-123456789012.{settings.region}.run.app"
        )
    return override.public_url


def _agent_settings(
    settings: StackSettings, name: str, declared: tuple[str, ...]
) -> dict[str, str]:
    """The stack's values of the per-stack settings the agent declares (``settings:``)."""
    missing = [setting for setting in declared if setting not in settings.agent_settings]
    if missing:
        raise SettingsError(
            f"invalid configuration for stack {settings.stack!r} (Pulumi.{settings.stack}.yaml):"
            + "".join(
                f"\n  - {STACK_SETTINGS_KEY}.{setting}: required by the agent {name!r} "
                "(its manifest's settings:) but not set"
                for setting in missing
            )
        )
    return {setting: str(settings.agent_settings[setting]) for setting in declared}


def plan_agent(catalogue: Catalogue, settings: StackSettings, name: str) -> AgentPlan:
    manifest = catalogue.agent(name)
    override = settings.agents.get(name)
    max_instances = min(
        override.max_instances if override and override.max_instances else manifest.max_instances,
        settings.instances.max_cap,
    )
    if override is not None and override.min_instances is not None:
        min_instances = override.min_instances
    else:
        min_instances = manifest.min_instances if settings.instances.keep_warm else 0
    if min_instances > max_instances:
        raise SettingsError(
            f"switchboard:agents.{name}.minInstances: {min_instances} exceeds the agent's "
            f"max instances {max_instances} in stack {settings.stack!r} (instances.maxCap "
            f"{settings.instances.max_cap}, manifest max_instances {manifest.max_instances})"
        )
    memory = (
        override.memory
        if override and override.memory
        else manifest.memory or settings.default_memory
    )
    consumers = tuple(c for c in catalogue.consumers() if c.agent.name == name)

    place = Place(
        project=settings.project,
        environment=settings.environment,
        log_level=settings.log_level,
        public_url=_public_url(settings, name) if manifest.is_public else None,
        settings=_agent_settings(settings, name, manifest.settings),
    )
    env = agent_environment(agent_facts(catalogue, name), place)
    secret_env = {naming.secret_env_var(secret): secret for secret in manifest.secrets}

    return AgentPlan(
        name=name,
        platform=manifest.platform,
        entry_point=manifest.entry_point,
        runtime=manifest.runtime,
        memory=memory,
        cpu=manifest.cpu,
        timeout_seconds=manifest.timeout_seconds,
        concurrency=manifest.concurrency,
        min_instances=min_instances,
        max_instances=max_instances,
        public=manifest.is_public,
        env=env,
        secret_env=dict(sorted(secret_env.items())),
        consumers=consumers,
        grants=tuple(sorted(_grants(catalogue, name, consumers))),
    )


def _grants(catalogue: Catalogue, name: str, consumers: tuple[Consumer, ...]) -> list[Grant]:
    manifest = catalogue.agent(name)
    grants = [
        Grant(
            "topic",
            topic,
            ROLE_PUBLISHER,
            "agent",
            f"{name}-publishes-{topic}",
            "declared in publishes",
        )
        for topic in manifest.publishes
    ]
    grants += [
        Grant(
            "secret",
            secret,
            ROLE_SECRET_ACCESSOR,
            "agent",
            f"{name}-reads-{secret}",
            "declared in secrets",
        )
        for secret in manifest.secrets
    ]
    if manifest.firestore:
        grants.append(
            Grant(
                "project",
                "firestore",
                ROLE_DATASTORE_USER,
                "agent",
                f"{name}-firestore-user",
                "idempotency and state; Firestore IAM has no resource finer than the project",
            )
        )
    if consumers:
        invoker = naming.invoker_account_id(name)
        grants += [
            Grant(
                "service",
                name,
                ROLE_RUN_INVOKER,
                "invoker",
                f"{name}-push-invoker",
                "Pub/Sub push (OIDC) identity",
            ),
            Grant(
                "service-account",
                invoker,
                ROLE_TOKEN_CREATOR,
                "pubsub-service-agent",
                f"{name}-invoker-token-creator",
                "Pub/Sub mints the push OIDC token for this invoker only",
            ),
        ]
    for consumer in consumers:
        dead_letter_topic = consumer.dead_letter_topic_id
        grants += [
            Grant(
                "topic",
                dead_letter_topic,
                ROLE_PUBLISHER,
                "pubsub-service-agent",
                f"{dead_letter_topic}-pubsub-publisher",
                "Pub/Sub forwards undeliverable messages",
            ),
            Grant(
                "subscription",
                consumer.subscription_id,
                ROLE_SUBSCRIBER,
                "pubsub-service-agent",
                f"{consumer.subscription_id}-pubsub-subscriber",
                "Pub/Sub acks forwarded messages (and counts delivery attempts)",
            ),
            Grant(
                "topic",
                dead_letter_topic,
                ROLE_PUBLISHER,
                "agent",
                f"{dead_letter_topic}-agent-publisher",
                "the runtime records permanent failures in its dead-letter topic",
            ),
        ]
    return grants


def plan_fleet(catalogue: Catalogue, settings: StackSettings) -> dict[str, AgentPlan]:
    return {name: plan_agent(catalogue, settings, name) for name in catalogue.agents}
