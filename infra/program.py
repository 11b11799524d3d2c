"""The whole Pulumi program: settings + catalogue -> components -> stack outputs.

``__main__.py`` calls :func:`run`; the offline render and the tests call :func:`build`
with settings they read themselves, under Pulumi's mocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from infra.agent.component import Agent, AgentArgs
from infra.agent.plan import AgentPlan, plan_fleet
from infra.artifacts.sources import AgentSources, AgentSourcesArgs
from infra.bus.topics import EventBus, EventBusArgs
from infra.catalogue import FUNCTIONS_DIR, Catalogue, CatalogueError, load_catalogue
from infra.cost import CostGuards, CostGuardsArgs
from infra.cost.guards import BUDGET_API
from infra.firestore import (
    FirestoreDatabase,
    FirestoreDatabaseArgs,
    FirestoreExports,
    FirestoreExportsArgs,
)
from infra.labels import common_labels
from infra.monitoring import Monitoring, MonitoringArgs
from infra.monitoring.runbooks import deploy_failure_pointer
from infra.network import AgentEgress, AgentEgressArgs
from infra.packaging.archive import PackagingError
from infra.placeholders import check_placeholders
from infra.project.apis import api_dependencies
from infra.project.services import REQUIRED_APIS, ProjectServices, ProjectServicesArgs
from infra.scheduler.ticks import Tick, TickArgs
from infra.secrets.store import SecretStore, SecretStoreArgs, check_external_secrets
from infra.settings import (
    NAMESPACE,
    SettingsError,
    StackSettings,
    parse_settings,
    validate_against_catalogue,
    validate_secret_sources,
)
from infra.snapshots import DeploySnapshot, DeploySnapshotArgs, render, snapshot

COMPUTE_API = "compute.googleapis.com"
REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / ".build" / "archives"


@dataclass
class Fleet:
    """Handles on what :func:`build` declared, for outputs and tests."""

    services: ProjectServices
    bus: EventBus
    secrets: SecretStore
    sources: AgentSources
    agents: dict[str, Agent]
    ticks: dict[str, Tick]
    firestore: FirestoreDatabase
    exports: FirestoreExports | None
    monitoring: Monitoring
    cost: CostGuards
    snapshot: DeploySnapshot
    network: AgentEgress | None


def read_settings() -> StackSettings:
    """Settings from the running stack's configuration."""
    stack = pulumi.get_stack()
    config: dict[str, Any] = {}
    gcp_config = pulumi.Config("gcp")
    for key in ("project", "region"):
        value = gcp_config.get(key)
        if value is not None:
            config[f"gcp:{key}"] = value
    config.update(_namespace_values())
    return parse_settings(stack, config)


def _namespace_values() -> dict[str, Any]:
    from pulumi.runtime.config import CONFIG

    return {k: v for k, v in CONFIG.get().items() if k.startswith(f"{NAMESPACE}:")}


def secret_readers(catalogue: Catalogue) -> dict[str, list[str]]:
    """Every catalogue secret -> the agents that read it."""
    readers: dict[str, list[str]] = {name: [] for name in catalogue.secrets}
    for name, agent in sorted(catalogue.agents.items()):
        for secret in agent.secrets:
            readers.setdefault(secret, []).append(name)
    return readers


def apis_for(settings: StackSettings) -> tuple[str, ...]:
    """The stack's APIs: the fleet's own, plus what opt-in features need."""
    extra: list[str] = []
    if settings.budget.billing_account:
        extra.append(BUDGET_API)
    if settings.network.egress_via_vpc:
        extra.append(COMPUTE_API)
    return tuple(sorted({*REQUIRED_APIS, *extra}))


def _declare_firestore(
    settings: StackSettings, labels: dict[str, str], apis: list[pulumi.Resource]
) -> tuple[FirestoreDatabase, FirestoreExports | None]:
    """The database (first: agents depend on it) and, where enabled, its exports."""
    protect = settings.deletion_protection
    firestore = FirestoreDatabase(
        "firestore",
        FirestoreDatabaseArgs(
            project=settings.project,
            settings=settings.firestore,
            protect=protect,
            depends_on=apis,
        ),
    )
    if not settings.firestore.exports.enabled:
        return firestore, None
    exports = FirestoreExports(
        "firestore-exports",
        FirestoreExportsArgs(
            project=settings.project,
            region=settings.region,
            firestore_location=settings.firestore.location,
            settings=settings.firestore.exports,
            database=firestore.database,
            protect=protect,
            labels=labels,
            depends_on=apis,
        ),
    )
    return firestore, exports


def _declare_network(
    settings: StackSettings, labels: dict[str, str], apis: list[pulumi.Resource]
) -> AgentEgress | None:
    """Opt-in VPC egress (``switchboard:network.egressViaVpc``)."""
    if not settings.network.egress_via_vpc:
        return None
    return AgentEgress(
        "network",
        AgentEgressArgs(
            project=settings.project,
            region=settings.region,
            settings=settings.network,
            protect=settings.deletion_protection,
            labels=labels,
            depends_on=apis,
        ),
    )


def validate_settings(settings: StackSettings, catalogue: Catalogue) -> dict[str, AgentPlan]:
    """Every check of the stack's settings against the catalogue that needs no cloud (the
    preflight runs it too); the agents' plans. Raises :class:`SettingsError`."""
    validate_against_catalogue(
        settings, set(catalogue.agents), set(catalogue.secrets), catalogue.setting_readers()
    )
    validate_secret_sources(settings, secret_readers(catalogue))
    return plan_fleet(catalogue, settings)  # raises on bad per-agent settings


def build(settings: StackSettings, catalogue: Catalogue, build_dir: Path = BUILD_DIR) -> Fleet:
    """Declare every resource of the stack. Validation happens before the first one."""
    plans = validate_settings(settings, catalogue)
    readers = secret_readers(catalogue)
    check_external_secrets(settings, readers)  # before the first resource is declared
    labels = common_labels(settings)
    project, region = settings.project, settings.region
    protect = settings.deletion_protection

    services = ProjectServices(
        "project", ProjectServicesArgs(project=project, apis=apis_for(settings))
    )
    apis = services.all
    # From here on every resource, children of components included, waits for the APIs
    # its type needs (infra/project/apis.py): a component's depends_on does not reach them.
    pulumi.runtime.register_stack_transformation(api_dependencies(services.apis))
    firestore, exports = _declare_firestore(settings, labels, apis)
    network = _declare_network(settings, labels, apis)
    bus = EventBus(
        "bus",
        EventBusArgs(
            project=project,
            topics=catalogue.topics,
            message_retention=settings.topic_message_retention,
            labels=labels,
            depends_on=apis,
        ),
    )
    secrets = SecretStore(
        "secrets",
        SecretStoreArgs(
            project=project,
            secrets=catalogue.secrets,
            sources=settings.secrets,
            protect=protect,
            labels=labels,
            depends_on=apis,
        ),
    )
    sources = AgentSources(
        "sources",
        AgentSourcesArgs(
            project=project, region=region, protect=protect, labels=labels, depends_on=apis
        ),
    )
    agents = {
        name: Agent(
            name,
            AgentArgs(
                project=project,
                region=region,
                plan=plan,
                functions_root=catalogue.root,
                build_dir=build_dir,
                source_bucket=sources.bucket,
                builder_name=sources.builder_name,
                repository_id=sources.repository.id,
                topics=bus.topics,
                secrets=secrets.secrets,
                pubsub_service_agent=services.pubsub_service_agent,
                builder_grants=sources.builder_grants,
                labels=labels,
                deletion_protection=protect,
                # Agents keep their state in Firestore: the database comes first.
                depends_on=[*apis, firestore.database],
                egress=network.egress if network else None,
            ),
        )
        for name, plan in plans.items()
    }
    ticks = {
        agent.name: Tick(
            f"{agent.name}-schedule",
            TickArgs(
                project=project,
                region=region,
                agent=agent.name,
                schedule=agent.schedule,
                topic_id=bus.topics[agent.schedule.topic].id,
            ),
            opts=pulumi.ResourceOptions(depends_on=apis),
        )
        for agent in catalogue.scheduled_agents()
        if agent.schedule is not None
    }
    monitoring = Monitoring(
        "monitoring", MonitoringArgs(settings=settings, plans=plans, labels=labels, depends_on=apis)
    )
    cost = CostGuards(
        "cost",
        CostGuardsArgs(
            settings=settings, notification_channel=monitoring.channel.name, depends_on=apis
        ),
    )
    archives = {name: agent.archive.object_name for name, agent in agents.items()}
    deploy_snapshot = DeploySnapshot(
        "deploy-snapshot",
        DeploySnapshotArgs(
            project=project,
            region=region,
            content=render(snapshot(settings, catalogue, plans, archives)),
            protect=protect,
            labels=labels,
            depends_on=apis,
        ),
    )
    return Fleet(
        services,
        bus,
        secrets,
        sources,
        agents,
        ticks,
        firestore,
        exports,
        monitoring,
        cost,
        deploy_snapshot,
        network,
    )


def export_outputs(fleet: Fleet) -> None:
    pulumi.export("topics", {name: topic.id for name, topic in fleet.bus.topics.items()})
    pulumi.export("agent_urls", {name: agent.url for name, agent in fleet.agents.items()})
    pulumi.export(
        "agent_service_accounts",
        {name: agent.service_account.email for name, agent in fleet.agents.items()},
    )
    pulumi.export("source_bucket", fleet.sources.bucket.name)
    pulumi.export("firestore_database", fleet.firestore.database.name)
    if fleet.exports is not None:
        pulumi.export("firestore_export_bucket", fleet.exports.bucket.name)
    pulumi.export("deploy_snapshot", fleet.snapshot.object.name)
    pulumi.export("dashboard", fleet.monitoring.dashboard.id)
    if fleet.network is not None:
        pulumi.export("egress_ip", fleet.network.address.address)


def main(functions_root: Path = FUNCTIONS_DIR) -> None:
    """``__main__.py``: :func:`run`, with what a user can get wrong (the catalogue, the
    stack's settings and secret sources, an agent's requirements against the lock)
    reported as Pulumi shows a ``RunError``: one error diagnostic, no traceback, a failed
    update."""
    try:
        run(functions_root)
    except (CatalogueError, SettingsError, PackagingError) as error:
        pointer = deploy_failure_pointer("the program refuses the stack")
        raise pulumi.RunError(f"{error}\n{pointer}") from None


def run(functions_root: Path = FUNCTIONS_DIR) -> Fleet:
    """The program ``pulumi up`` runs."""
    settings = read_settings()
    catalogue = load_catalogue(functions_root)
    check_placeholders(settings)  # a real `pulumi up` refuses example values
    fleet = build(settings, catalogue)
    export_outputs(fleet)
    return fleet
