"""The validated catalogue: topics, secrets and agents, and the questions asked of it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.catalogue import naming
from infra.catalogue.filter_language import conjoin
from infra.catalogue.model import AgentManifest, SecretSpec, SubscriptionSpec, TopicSpec


@dataclass(frozen=True)
class Consumer:
    """One agent's subscription to one topic, with the names GCP will know it by."""

    agent: AgentManifest
    spec: SubscriptionSpec

    @property
    def topic(self) -> str:
        return self.spec.topic

    @property
    def subscription_id(self) -> str:
        return naming.subscription_id(self.agent.name, self.spec.topic)

    @property
    def dead_letter_topic_id(self) -> str:
        return naming.dead_letter_topic_id(self.agent.name, self.spec.topic)

    @property
    def dead_letter_subscription_id(self) -> str:
        return naming.dead_letter_subscription_id(self.agent.name, self.spec.topic)

    @property
    def effective_filter(self) -> str:
        """The filter deployed: the manifest's, AND the redrive clause."""
        return effective_filter(self.agent.name, self.spec)


def effective_filter(agent: str, spec: SubscriptionSpec) -> str:
    return conjoin(spec.filter, naming.redrive_clause(agent, spec.topic))


@dataclass(frozen=True)
class Catalogue:
    """Everything under ``functions/``: validated, in a stable (sorted) order."""

    root: Path
    topics: Mapping[str, TopicSpec]
    secrets: Mapping[str, SecretSpec]
    agents: Mapping[str, AgentManifest]

    def agent(self, name: str) -> AgentManifest:
        try:
            return self.agents[name]
        except KeyError:
            raise KeyError(f"no agent named {name!r}; agents: {', '.join(self.agents)}") from None

    def agent_dir(self, name: str) -> Path:
        return self.root / name

    def consumers(self) -> Iterator[Consumer]:
        """Every (agent, subscription) pair, agents and topics in catalogue order."""
        for agent in self.agents.values():
            for spec in agent.subscriptions:
                yield Consumer(agent, spec)

    def consumers_of(self, topic: str) -> list[Consumer]:
        return [c for c in self.consumers() if c.topic == topic]

    def consumer(self, subscription_id: str) -> Consumer:
        for candidate in self.consumers():
            if candidate.subscription_id == subscription_id:
                return candidate
        raise KeyError(f"no agent subscription is named {subscription_id!r}")

    def topic_of_event_type(self, event_type: str) -> str:
        for name, topic in self.topics.items():
            if event_type in topic.event_types:
                return name
        raise KeyError(f"no topic carries event type {event_type!r}")

    def scheduled_agents(self) -> list[AgentManifest]:
        return [agent for agent in self.agents.values() if agent.schedule is not None]

    def setting_readers(self) -> dict[str, list[str]]:
        """Every per-stack setting an agent declares (``settings:``) -> those agents."""
        readers: dict[str, list[str]] = {}
        for name, agent in sorted(self.agents.items()):
            for setting in agent.settings:
                readers.setdefault(setting, []).append(name)
        return dict(sorted(readers.items()))
