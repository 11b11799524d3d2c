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
from infra.agent.plan import plan_fleet
from infra.artifacts.sources import AgentSources, AgentSourcesArgs
from infra.bus.topics import EventBus, EventBusArgs
from infra.catalogue import FUNCTIONS_DIR, Catalogue, load_catalogue
from infra.labels import common_labels
from infra.project.services import ProjectServices, ProjectServicesArgs
from infra.scheduler.ticks import Tick, TickArgs
from infra.secrets.store import SecretStore, SecretStoreArgs
from infra.settings import NAMESPACE, StackSettings, parse_settings, validate_against_catalogue

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


def build(settings: StackSettings, catalogue: Catalogue, build_dir: Path = BUILD_DIR) -> Fleet:
    """Declare every resource of the stack. Validation happens before the first one."""
    validate_against_catalogue(settings, set(catalogue.agents), set(catalogue.secrets))
    plans = plan_fleet(catalogue, settings)  # raises on bad per-agent settings
    labels = common_labels(settings)
    project, region = settings.project, settings.region
    protect = settings.deletion_protection

    services = ProjectServices("project", ProjectServicesArgs(project=project))
    apis = services.all
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
            values_from_config=settings.secrets_from_config,
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
                labels=labels,
                deletion_protection=protect,
                depends_on=apis,
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
    return Fleet(services, bus, secrets, sources, agents, ticks)


def export_outputs(fleet: Fleet) -> None:
    pulumi.export("topics", {name: topic.id for name, topic in fleet.bus.topics.items()})
    pulumi.export("agent_urls", {name: agent.url for name, agent in fleet.agents.items()})
    pulumi.export(
        "agent_service_accounts",
        {name: agent.service_account.email for name, agent in fleet.agents.items()},
    )
    pulumi.export("source_bucket", fleet.sources.bucket.name)


def run(functions_root: Path = FUNCTIONS_DIR) -> Fleet:
    """The program ``pulumi up`` runs."""
    settings = read_settings()
    catalogue = load_catalogue(functions_root)
    fleet = build(settings, catalogue)
    export_outputs(fleet)
    return fleet
