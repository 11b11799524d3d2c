"""What a dead letter says about itself, and what a redriven copy carries. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard_contract.attributes import (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SOURCE_SUBSCRIPTION,
    FAILED_SUBSCRIPTION,
    FAILURE_REASON,
    REDRIVE_TARGET,
    RUNTIME_FAILURE_ATTRIBUTES,
)

from library.deadletters.attributes import (
    DEAD_LETTER_SUFFIX,
    PUBSUB_DEAD_LETTER_PREFIX,
)

REDRIVE_COUNT = "redrive_count"


@dataclass(frozen=True)
class DeadLetter:
    """One message sitting in a dead-letter subscription."""

    dead_letter_subscription: str
    message_id: str
    ack_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: datetime

    @property
    def source_subscription(self) -> str:
        """The agent subscription it failed in (Pub/Sub's attribute, or the runtime's)."""
        raw = self.attributes.get(DEAD_LETTER_SOURCE_SUBSCRIPTION) or self.attributes.get(
            FAILED_SUBSCRIPTION, ""
        )
        derived = self.dead_letter_subscription.removesuffix(DEAD_LETTER_SUFFIX)
        return raw.rsplit("/", 1)[-1] or derived

    @property
    def reason(self) -> str:
        if reason := self.attributes.get(FAILURE_REASON):
            return f"permanent failure: {reason}"
        if count := self.attributes.get(DEAD_LETTER_DELIVERY_COUNT):
            return f"delivery failed {count} times (max_delivery_attempts reached)"
        return "unknown (no dead-letter attributes)"

    @property
    def delivery_count(self) -> int:
        try:
            return int(self.attributes.get(DEAD_LETTER_DELIVERY_COUNT, "1"))
        except ValueError:
            return 1

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.publish_time).total_seconds()

    @property
    def event_type(self) -> str:
        return self.attributes.get("type", "?")

    @property
    def event_id(self) -> str:
        return self.attributes.get("event_id", "")


def redrive_attributes(original: Mapping[str, str], target_subscription: str) -> dict[str, str]:
    """The attributes of the copy published back to the source topic: the original ones,
    without what dead-lettering added, plus the redrive target (only that subscription's
    filter admits it) and a redrive counter."""
    attributes = {
        key: value
        for key, value in original.items()
        if not key.startswith(PUBSUB_DEAD_LETTER_PREFIX)
        and key not in RUNTIME_FAILURE_ATTRIBUTES
        and key != REDRIVE_TARGET
    }
    attributes[REDRIVE_TARGET] = target_subscription
    attributes[REDRIVE_COUNT] = str(int(original.get(REDRIVE_COUNT, "0") or 0) + 1)
    return attributes
