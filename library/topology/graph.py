"""The fleet as a graph: ingress, schedules, topics, agents, dead letters, third parties.

Pure function of the catalogue; node and edge order is deterministic (catalogue order),
so the Mermaid and SVG outputs are byte-stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from library.fleet import Fleet

NodeKind = Literal["ingress", "schedule", "topic", "agent", "dead-letter", "api"]
EdgeKind = Literal["ingress", "schedule", "subscribe", "publish", "dead-letter", "api"]

THIRD_PARTIES = {
    "stripe-": "Stripe API",
    "twilio-": "Twilio API",
    "google-calendar-": "Google Calendar API",
}
MAX_FILTER_LABEL = 40


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: NodeKind
    detail: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> None:
        if all(n.id != node.id for n in self.nodes):
            self.nodes.append(node)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


def node_id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def abbreviate_filter(expression: str, limit: int = MAX_FILTER_LABEL) -> str:
    """``attributes.type = "a" OR attributes.type = "b"`` -> ``a or b``; empty -> ``all``."""
    if not expression.strip():
        return "all"
    text = re.sub(r'attributes\.type\s*=\s*"([^"]*)"', r"\1", expression)
    text = re.sub(r'attributes\.([\w-]+)\s*=\s*"([^"]*)"', r"\1=\2", text)
    text = re.sub(r'attributes\.([\w-]+)\s*!=\s*"([^"]*)"', r"\1≠\2", text)
    text = re.sub(r"attributes:([\w-]+)", r"has \1", text)
    text = text.replace(" OR ", " or ").replace(" AND ", " and ").replace("NOT ", "not ")
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def third_party(secret: str) -> str | None:
    for prefix, api in THIRD_PARTIES.items():
        if secret.startswith(prefix):
            return api
    return None


def build_graph(catalogue: Fleet) -> Graph:
    graph = Graph()
    for name, agent in catalogue.agents.items():
        if agent.is_public:
            graph.add(Node("internet", "Internet (HTTPS)", "ingress"))
            graph.edges.append(Edge("internet", node_id("agent", name), "ingress", "public"))
        if agent.schedule is not None:
            job = node_id("schedule", name)
            graph.add(Node(job, f"Cloud Scheduler {name}-tick", "schedule", agent.schedule.cron))
            label = f"{agent.schedule.cron} {agent.schedule.timezone}"
            graph.edges.append(Edge(job, node_id("topic", agent.schedule.topic), "schedule", label))
    for name in catalogue.topics:
        graph.add(Node(node_id("topic", name), name, "topic"))
    for name, agent in catalogue.agents.items():
        platform = "Cloud Run" if agent.platform == "run" else "Cloud Function"
        ingress = "public" if agent.is_public else "internal"
        graph.add(Node(node_id("agent", name), name, "agent", f"{platform}, {ingress}"))
    for consumer in catalogue.consumers():
        agent = node_id("agent", consumer.agent.name)
        graph.edges.append(
            Edge(
                node_id("topic", consumer.topic),
                agent,
                "subscribe",
                abbreviate_filter(consumer.spec.filter),
            )
        )
        dead_letter = node_id("dlq", consumer.dead_letter_topic_id)
        graph.add(Node(dead_letter, consumer.dead_letter_topic_id, "dead-letter"))
        attempts = f"after {consumer.spec.max_delivery_attempts} attempts"
        graph.edges.append(Edge(agent, dead_letter, "dead-letter", attempts))
    for name, agent in catalogue.agents.items():
        for topic in agent.publishes:
            graph.edges.append(Edge(node_id("agent", name), node_id("topic", topic), "publish"))
    for name, agent in catalogue.agents.items():
        apis = sorted({api for s in agent.secrets if (api := third_party(s))})
        for api in apis:
            graph.add(Node(node_id("api", api), api, "api"))
            graph.edges.append(Edge(node_id("agent", name), node_id("api", api), "api"))
    return graph
