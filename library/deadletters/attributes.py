"""The words of dead-lettering: the attributes Pub/Sub adds to a message it forwards to a
dead-letter topic, and the dead-letter name suffix.

Pub/Sub's four names (and the redrive attribute) live in :mod:`switchboard_contract.attributes`:
the original data and attributes are kept; these four are added. The local platform
forwards with :func:`dead_letter_attributes`; the dead-letter records read them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from switchboard_contract.attributes import (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SOURCE_SUBSCRIPTION,
    DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT,
    DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME,
)

PUBSUB_DEAD_LETTER_PREFIX = "CloudPubSubDeadLetter"
"""Every attribute Pub/Sub adds when dead-lettering starts with it."""

DEAD_LETTER_SUFFIX = "-dead-letter"
"""A dead-letter topic (and its pull subscription) is the agent subscription's id plus this."""


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
        DEAD_LETTER_DELIVERY_COUNT: str(delivery_count),
        DEAD_LETTER_SOURCE_SUBSCRIPTION: subscription_id,
        DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT: project,
        DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME: publish_time_text(publish_time),
    }
