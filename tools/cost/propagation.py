"""The fan-out: origin events through topics, filters, retries and follow-up events.

Every origin event (per day, from the traffic profile) and every scheduler tick (from the
cron expression) is published once with the attributes a real publish carries (the
runtime's ``publisher.event_message``: type, event_id, source, correlation_id,
causation_id, schema_version; ticks: type, target, source as infra/scheduler/ticks.py
sends them; never ``redrive_target``, which only a redrive sets). Each subscription whose
deployed filter (the manifest's AND the redrive clause) matches, in the project's own
filter language, gets one push per attempt: with a per-attempt failure rate ``f`` and
``max_delivery_attempts`` ``m`` a message costs ``(1 - f**m) / (1 - f)`` attempts, is
handled with probability ``1 - f**m`` and dead-lettered otherwise. Each handled delivery
publishes the follow-ups the calibration measured, which propagate the same way.

The model is linear in the origin rates: doubling traffic doubles every flow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from switchboard_contract.attributes import TICK_SOURCE

from infra.catalogue.catalogue import Catalogue, effective_filter
from infra.catalogue.filter_language import parse_filter
from tools.cost.calibration import Calibration
from tools.cost.errors import CostInputError
from tools.cost.schedules import DAYS_PER_MONTH, fires_per_month
from tools.cost.traffic import TrafficProfile

GATEWAY_SOURCE = "gateway"
SCHEDULER_SOURCE = TICK_SOURCE
MAX_GENERATIONS = 64
CONVERGED = 1e-9


@dataclass(frozen=True)
class Stream:
    """A kind of message: its type, who publishes it, and for ticks their target."""

    event_type: str
    source: str
    target: str = ""

    def attributes(self) -> dict[str, str]:
        if self.event_type == "tick" and self.source == SCHEDULER_SOURCE:
            return {"type": "tick", "target": self.target, "source": SCHEDULER_SOURCE}
        return {
            "type": self.event_type,
            "event_id": "e-0000",
            "source": self.source,
            "correlation_id": "c-0000",
            "causation_id": "",
            "schema_version": "1",
        }


@dataclass
class SubscriptionFlow:
    agent: str
    topic: str
    subscription_id: str
    filter: str
    messages_on_topic: float = 0.0
    matched: float = 0.0
    attempts: float = 0.0
    handled: float = 0.0
    dead_lettered: float = 0.0
    ignored_attempts: float = 0.0
    """Pushes of messages its real filter would have kept out (only with filters off)."""
    matched_by_type: dict[str, float] = field(default_factory=dict)
    attempts_by_type: dict[str, float] = field(default_factory=dict)
    handled_by_type: dict[str, float] = field(default_factory=dict)
    failure_rate: float = 0.0
    max_delivery_attempts: int = 5

    @property
    def filtered_out(self) -> float:
        return self.messages_on_topic - self.matched

    @property
    def attempts_without_filter(self) -> float:
        """Pushes per month if this subscription had no filter (every message on its topic)."""
        return self.messages_on_topic * expected_attempts(
            self.failure_rate, self.max_delivery_attempts
        )


@dataclass
class Propagation:
    published: dict[Stream, float]
    """Messages published per month, by stream (origin, ticks and follow-ups)."""
    publishes_by_source: dict[str, float]
    topic_messages: dict[str, float]
    subscriptions: list[SubscriptionFlow]
    origin_events_per_month: float


def expected_attempts(failure_rate: float, max_attempts: int) -> float:
    if failure_rate == 0:
        return 1.0
    return (1 - failure_rate**max_attempts) / (1 - failure_rate)


def origin_streams(catalogue: Catalogue, traffic: TrafficProfile) -> dict[Stream, float]:
    streams: dict[Stream, float] = {}
    for event_type, per_day in traffic.origin_events_per_day.items():
        try:
            catalogue.topic_of_event_type(event_type)
        except KeyError:
            raise CostInputError(
                f"traffic profile: origin_events_per_day.{event_type}: no topic carries it"
            ) from None
        streams[Stream(event_type, GATEWAY_SOURCE)] = per_day * DAYS_PER_MONTH
    for agent in catalogue.scheduled_agents():
        assert agent.schedule is not None
        stream = Stream("tick", SCHEDULER_SOURCE, agent.name)
        streams[stream] = fires_per_month(agent.schedule.cron)
    return streams


def _topic_of(catalogue: Catalogue, stream: Stream, scheduled: Mapping[str, str]) -> str:
    if stream.source == SCHEDULER_SOURCE:
        return scheduled[stream.target]
    return catalogue.topic_of_event_type(stream.event_type)


def propagate(  # noqa: PLR0912, PLR0915
    catalogue: Catalogue,
    traffic: TrafficProfile,
    calibration: Calibration,
    *,
    filters: bool = True,
    deployed: Mapping[str, tuple[str, int]] | None = None,
) -> Propagation:
    """Every flow per month. ``filters=False``: as if no subscription had a filter.
    ``deployed``: subscription id -> (filter, max delivery attempts) as a render declares
    them (so a review compares what each side deploys); else the catalogue's."""
    for agent in traffic.failure_rate:
        if agent not in catalogue.agents:
            raise CostInputError(f"traffic profile: failure_rate.{agent}: no such agent")
    scheduled = {a.name: a.schedule.topic for a in catalogue.scheduled_agents() if a.schedule}
    flows: list[SubscriptionFlow] = []
    parsed = []
    for consumer in catalogue.consumers():
        real_text = effective_filter(consumer.agent.name, consumer.spec)
        attempts = consumer.spec.max_delivery_attempts
        if deployed and consumer.subscription_id in deployed:
            real_text, attempts = deployed[consumer.subscription_id]
        text = real_text if filters else ""
        flows.append(
            SubscriptionFlow(
                agent=consumer.agent.name,
                topic=consumer.topic,
                subscription_id=consumer.subscription_id,
                filter=real_text if filters else "",
                failure_rate=traffic.failure_rate.get(consumer.agent.name, 0.0),
                max_delivery_attempts=attempts,
            )
        )
        parsed.append((parse_filter(text), parse_filter(real_text)))
    published: dict[Stream, float] = defaultdict(float)
    by_source: dict[str, float] = defaultdict(float)
    topic_messages: dict[str, float] = defaultdict(float)
    generation = origin_streams(catalogue, traffic)
    origin_total = sum(generation.values())
    for _ in range(MAX_GENERATIONS):
        following: dict[Stream, float] = defaultdict(float)
        for stream, rate in generation.items():
            if rate <= 0:
                continue
            published[stream] += rate
            by_source[stream.source] += rate
            topic = _topic_of(catalogue, stream, scheduled)
            topic_messages[topic] += rate
            attributes = stream.attributes()
            for flow, (compiled, real) in zip(flows, parsed, strict=True):
                if flow.topic != topic:
                    continue
                flow.messages_on_topic += rate
                if not compiled.matches(attributes):
                    continue
                attempts = rate * expected_attempts(flow.failure_rate, flow.max_delivery_attempts)
                if not real.matches(attributes):
                    # delivered only because filters are off: the handler ignores it
                    flow.matched += rate
                    flow.ignored_attempts += rate
                    continue
                handled = rate * (1 - flow.failure_rate**flow.max_delivery_attempts)
                flow.matched += rate
                flow.attempts += attempts
                flow.handled += handled
                flow.dead_lettered += rate - handled
                key = stream.event_type
                flow.matched_by_type[key] = flow.matched_by_type.get(key, 0.0) + rate
                flow.attempts_by_type[key] = flow.attempts_by_type.get(key, 0.0) + attempts
                flow.handled_by_type[key] = flow.handled_by_type.get(key, 0.0) + handled
                behaviour = calibration.behaviour(flow.agent, stream.event_type)
                for follow_type, per_delivery in behaviour.follow_ups.items():
                    following[Stream(follow_type, flow.agent)] += handled * per_delivery
        generation = following
        if sum(generation.values()) <= CONVERGED * max(origin_total, 1.0):
            break
    else:
        raise CostInputError(
            f"the follow-up events do not die out within {MAX_GENERATIONS} generations: "
            "the calibration describes a cycle that amplifies itself"
        )
    return Propagation(
        published=dict(published),
        publishes_by_source=dict(by_source),
        topic_messages=dict(topic_messages),
        subscriptions=flows,
        origin_events_per_month=origin_total,
    )
