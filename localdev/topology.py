"""Create every topic and subscription of the catalogue on the Pub/Sub emulator.

Agent subscriptions are *pull* subscriptions here: the platform's delivery loops pull
from them and push to the agents themselves (see :mod:`localdev.delivery`). Each carries
its deployed filter (stored; the emulator does not apply it), the dead-letter policy (the
emulator counts ``delivery_attempt`` only when one is set) and never expires.

The retry policy is *not* set on the emulator subscription: this emulator's own backoff
is not the documented exponential one (measured: first redelivery immediate, then about
2-8 s whatever the policy) and it would stack on top of the platform's exact backoff. The
policy is recorded as labels instead, and applied by the delivery loop.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from google.api_core import exceptions
from google.cloud import pubsub_v1

from infra.catalogue import Catalogue, Consumer

RETRY_LABEL_MIN = "switchboard-retry-minimum-backoff-seconds"
RETRY_LABEL_MAX = "switchboard-retry-maximum-backoff-seconds"


@dataclass(frozen=True)
class Topology:
    topics: tuple[str, ...]
    subscriptions: tuple[str, ...]
    dead_letter_topics: tuple[str, ...]
    dead_letter_subscriptions: tuple[str, ...]


def subscription_request(project: str, consumer: Consumer) -> dict[str, object]:
    """The CreateSubscription request for one agent subscription (pure, for tests)."""
    spec = consumer.spec
    return {
        "name": f"projects/{project}/subscriptions/{consumer.subscription_id}",
        "topic": f"projects/{project}/topics/{consumer.topic}",
        "filter": consumer.effective_filter,
        "ack_deadline_seconds": spec.ack_deadline_seconds,
        "dead_letter_policy": {
            "dead_letter_topic": f"projects/{project}/topics/{consumer.dead_letter_topic_id}",
            "max_delivery_attempts": spec.max_delivery_attempts,
        },
        "expiration_policy": {},
        "labels": {
            "switchboard-agent": consumer.agent.name,
            RETRY_LABEL_MIN: str(spec.retry.minimum_backoff_seconds),
            RETRY_LABEL_MAX: str(spec.retry.maximum_backoff_seconds),
        },
    }


def _create(call: object, **request: object) -> None:
    with contextlib.suppress(exceptions.AlreadyExists):
        call(request=request)  # type: ignore[operator]


def create_topology(
    catalogue: Catalogue,
    project: str,
    publisher: pubsub_v1.PublisherClient,
    subscriber: pubsub_v1.SubscriberClient,
) -> Topology:
    """Create (idempotently) every topic, agent subscription, dead-letter topic and its
    subscription."""
    consumers = list(catalogue.consumers())
    topics = tuple(catalogue.topics)
    for topic in topics:
        _create(publisher.create_topic, name=f"projects/{project}/topics/{topic}")
    for consumer in consumers:
        dead_letter_topic = f"projects/{project}/topics/{consumer.dead_letter_topic_id}"
        _create(publisher.create_topic, name=dead_letter_topic)
        _create(
            subscriber.create_subscription,
            name=f"projects/{project}/subscriptions/{consumer.dead_letter_subscription_id}",
            topic=dead_letter_topic,
            ack_deadline_seconds=60,
            expiration_policy={},
        )
        _create(subscriber.create_subscription, **subscription_request(project, consumer))
    return Topology(
        topics=topics,
        subscriptions=tuple(c.subscription_id for c in consumers),
        dead_letter_topics=tuple(c.dead_letter_topic_id for c in consumers),
        dead_letter_subscriptions=tuple(c.dead_letter_subscription_id for c in consumers),
    )
