"""The catalogue as the libraries read it: structural types, no loading, no validation.

``infra.catalogue`` (a higher layer) loads and validates ``functions/``; its ``Catalogue``,
``AgentManifest`` and ``Consumer`` satisfy these protocols, so the topology graph and the
dead-letter operations take a catalogue without importing the program.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol


class Schedule(Protocol):
    @property
    def cron(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def topic(self) -> str: ...


class Agent(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def is_public(self) -> bool: ...
    @property
    def schedule(self) -> Schedule | None: ...
    @property
    def publishes(self) -> Iterable[str]: ...
    @property
    def secrets(self) -> Iterable[str]: ...


class SubscriptionSpec(Protocol):
    @property
    def filter(self) -> str: ...
    @property
    def max_delivery_attempts(self) -> int: ...


class Consumer(Protocol):
    """One agent's subscription to one topic, with its GCP names."""

    @property
    def agent(self) -> Agent: ...
    @property
    def spec(self) -> SubscriptionSpec: ...
    @property
    def topic(self) -> str: ...
    @property
    def subscription_id(self) -> str: ...
    @property
    def dead_letter_topic_id(self) -> str: ...
    @property
    def dead_letter_subscription_id(self) -> str: ...


class Fleet(Protocol):
    """Agents and topics in catalogue order, and every (agent, subscription) pair."""

    @property
    def agents(self) -> Mapping[str, Agent]: ...
    @property
    def topics(self) -> Mapping[str, object]: ...
    def consumers(self) -> Iterator[Consumer]: ...
