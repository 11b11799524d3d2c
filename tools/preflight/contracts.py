"""Preflight rules over the event contract: every published type reaches someone, every
subscription filter can match something (:mod:`tools.reachability`).

These read the catalogue and the agents' code, not the render: they are the same for
every stack (a filter or a ``publishes`` list does not vary by stack).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR, naming
from tools.preflight.graph import Render
from tools.preflight.rules import Finding, Rule, StackFacts
from tools.reachability import Reachability, ReachabilityError, build


@functools.cache
def _model(functions: Path) -> Reachability:
    return build(functions)


def unreceived_types(model: Reachability) -> Iterator[Finding]:
    """A type some agent publishes that no subscription's filter lets through is lost."""
    for event_type in model.event_types():
        publishers = model.publishers(event_type)
        if not publishers or model.receivers_of(event_type) or event_type in model.terminal:
            continue
        topic = next(t for t, types in model.topics.items() if event_type in types)
        yield Finding(
            "published-type-has-a-receiver",
            f"event type {event_type} (topic {topic})",
            f"published by {', '.join(publishers)}, but no subscription's filter matches it: "
            "every message of it is dropped",
            f"add a subscription (or widen a filter) on topic {topic} for {event_type}, or "
            f"declare it under topics.{topic}.terminal in functions/catalogue.yaml",
        )


def dead_filters(model: Reachability) -> Iterator[Finding]:
    """A subscription whose filter matches nothing published receives nothing, ever."""
    for receiver in model.receivers:
        if any(agent == receiver.agent for _, agent in _edges_on(model, receiver.topic)):
            continue
        published = sorted({p.event_type for p in model.publications if p.topic == receiver.topic})
        yield Finding(
            "subscription-filter-matches-something",
            f"subscription {naming.subscription_id(receiver.agent, receiver.topic)}",
            f"functions/{receiver.agent}/agent.yaml: the filter on topic {receiver.topic} "
            f"matches nothing any agent or the gateway publishes there "
            f"({', '.join(published) or 'nothing is published there'})",
            "fix the filter (attributes.type values are case-sensitive and exact), or remove "
            "the subscription",
        )


def _edges_on(model: Reachability, topic: str) -> Iterator[tuple[str, str]]:
    types = set(model.topics.get(topic, ()))
    return (edge for edge in model.edges if edge[0] in types)


def published_types_are_received(render: Render, facts: StackFacts) -> Iterator[Finding]:
    try:
        model = _model(FUNCTIONS_DIR)
    except ReachabilityError as error:  # reported once, here; the other rule skips
        yield Finding(
            "published-type-has-a-receiver",
            "agent code",
            f"{error}: who publishes what cannot be known",
            "fix the file (python -m tools.reachability shows the table once it parses)",
        )
        return
    yield from unreceived_types(model)


def subscription_filters_match_something(render: Render, facts: StackFacts) -> Iterator[Finding]:
    try:
        model = _model(FUNCTIONS_DIR)
    except ReachabilityError:
        return
    yield from dead_filters(model)


CONTRACT_RULES: tuple[Rule, ...] = (
    published_types_are_received,
    subscription_filters_match_something,
)
