"""Dead-letter operations against Pub/Sub (the emulator or a real project).

Peeking pulls messages and immediately releases them (ack deadline 0), so listing never
consumes anything. Redrive publishes the copy and waits for Pub/Sub to accept it *before*
acking the dead letter: a crash in between can only duplicate, which the runtime's
idempotency absorbs; it can never lose a message.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from library.deadletters.records import DeadLetter, redrive_attributes
from library.fleet import Consumer, Fleet

PULL_BATCH = 100
MAX_PEEK = 5000


@dataclass(frozen=True)
class RedriveResult:
    message_id: str
    target_subscription: str
    topic: str
    published_id: str | None
    dry_run: bool


class DeadLetterOps:
    def __init__(self, project: str, catalogue: Fleet) -> None:
        from google.cloud import pubsub_v1

        # return_immediately is deprecated for streaming consumers, but it is exactly what
        # a bounded, non-blocking peek of a dead-letter backlog needs.
        warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated")
        self.project = project
        self.catalogue = catalogue
        self.subscriber = pubsub_v1.SubscriberClient()
        self.publisher = pubsub_v1.PublisherClient()

    def close(self) -> None:
        self.subscriber.close()

    def consumers(
        self, agent: str | None = None, subscription: str | None = None
    ) -> list[Consumer]:
        selected = [
            c
            for c in self.catalogue.consumers()
            if (agent is None or c.agent.name == agent)
            and (
                subscription is None
                or subscription in (c.subscription_id, c.dead_letter_subscription_id)
            )
        ]
        if not selected:
            raise SystemExit(
                f"no agent subscription matches agent={agent!r} subscription={subscription!r}"
            )
        return selected

    def _path(self, subscription_id: str) -> str:
        return self.subscriber.subscription_path(self.project, subscription_id)

    def _pull(self, subscription_id: str, limit: int) -> list[DeadLetter]:
        """Lease up to ``limit`` messages (caller releases or acks them)."""
        from google.api_core.exceptions import NotFound

        leased: dict[str, DeadLetter] = {}
        while len(leased) < limit:
            try:
                response = self.subscriber.pull(
                    request={
                        "subscription": self._path(subscription_id),
                        "max_messages": min(PULL_BATCH, limit - len(leased)),
                        "return_immediately": True,
                    },
                    timeout=10,
                )
            except NotFound:
                print(
                    f"warning: dead-letter subscription {subscription_id} does not exist in "
                    f"project {self.project} (not deployed yet, or the wrong project?)",
                    file=sys.stderr,
                )
                break
            fresh = [r for r in response.received_messages if r.message.message_id not in leased]
            if not fresh:
                break
            for received in fresh:
                message = received.message
                leased[message.message_id] = DeadLetter(
                    dead_letter_subscription=subscription_id,
                    message_id=message.message_id,
                    ack_id=received.ack_id,
                    data=bytes(message.data),
                    attributes=dict(message.attributes),
                    publish_time=_as_datetime(message.publish_time),
                )
        return list(leased.values())

    def _release(self, letters: Iterable[DeadLetter]) -> None:
        by_subscription: dict[str, list[str]] = {}
        for letter in letters:
            by_subscription.setdefault(letter.dead_letter_subscription, []).append(letter.ack_id)
        for subscription_id, ack_ids in by_subscription.items():
            for start in range(0, len(ack_ids), PULL_BATCH):
                self.subscriber.modify_ack_deadline(
                    request={
                        "subscription": self._path(subscription_id),
                        "ack_ids": ack_ids[start : start + PULL_BATCH],
                        "ack_deadline_seconds": 0,
                    }
                )

    def _ack(self, letter: DeadLetter) -> None:
        self.subscriber.acknowledge(
            request={
                "subscription": self._path(letter.dead_letter_subscription),
                "ack_ids": [letter.ack_id],
            }
        )

    def peek(self, consumers: Iterable[Consumer], limit: int = MAX_PEEK) -> list[DeadLetter]:
        """Every dead letter of ``consumers``, without consuming any."""
        letters: list[DeadLetter] = []
        for consumer in consumers:
            batch = self._pull(consumer.dead_letter_subscription_id, limit)
            self._release(batch)
            letters.extend(batch)
        return sorted(letters, key=lambda d: (d.dead_letter_subscription, d.publish_time))

    def redrive(
        self,
        consumers: Iterable[Consumer],
        message_ids: set[str] | None = None,
        dry_run: bool = False,
    ) -> Iterator[RedriveResult]:
        """Publish each selected dead letter back to its topic for its own subscription
        only, then ack it. ``message_ids=None`` selects all."""
        for consumer in consumers:
            letters = self._pull(consumer.dead_letter_subscription_id, MAX_PEEK)
            selected = [d for d in letters if message_ids is None or d.message_id in message_ids]
            self._release(d for d in letters if d not in selected or dry_run)
            topic = self.publisher.topic_path(self.project, consumer.topic)
            for letter in selected:
                attributes = redrive_attributes(letter.attributes, consumer.subscription_id)
                if dry_run:
                    yield RedriveResult(
                        letter.message_id, consumer.subscription_id, consumer.topic, None, True
                    )
                    continue
                published = self.publisher.publish(topic, letter.data, **attributes).result(
                    timeout=30
                )
                self._ack(letter)  # only after Pub/Sub accepted the copy
                yield RedriveResult(
                    letter.message_id, consumer.subscription_id, consumer.topic, published, False
                )

    def purge(self, consumers: Iterable[Consumer], dry_run: bool = False) -> int:
        """Ack (delete) every dead letter of ``consumers``; returns how many."""
        count = 0
        for consumer in consumers:
            letters = self._pull(consumer.dead_letter_subscription_id, MAX_PEEK)
            if dry_run:
                self._release(letters)
            else:
                for letter in letters:
                    self._ack(letter)
            count += len(letters)
        return count


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    to_datetime = getattr(value, "ToDatetime", None)
    if to_datetime is not None:
        return to_datetime(tzinfo=UTC)
    return datetime.now(UTC)
