"""The attributes Pub/Sub adds to a message it forwards to a dead-letter topic.

Names as documented for dead-letter topics (and as this SDK's emulator sets them): the
original data and attributes are kept; these four are added.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"
SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
SOURCE_SUBSCRIPTION_PROJECT = "CloudPubSubDeadLetterSourceSubscriptionProject"
SOURCE_TOPIC_PUBLISH_TIME = "CloudPubSubDeadLetterSourceTopicPublishTime"


def publish_time_text(moment: datetime) -> str:
    """``2026-11-27T00:02:09.342Z``: millisecond RFC 3339, the form Pub/Sub writes here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def dead_letter_attributes(
    attributes: Mapping[str, str],
    *,
    delivery_count: int,
    subscription_id: str,
    project: str,
    publish_time: datetime,
) -> dict[str, str]:
    """The forwarded message's attributes: the original ones plus the four source attributes."""
    return {
        **attributes,
        DELIVERY_COUNT: str(delivery_count),
        SOURCE_SUBSCRIPTION: subscription_id,
        SOURCE_SUBSCRIPTION_PROJECT: project,
        SOURCE_TOPIC_PUBLISH_TIME: publish_time_text(publish_time),
    }
