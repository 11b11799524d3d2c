"""The attributes the local platform adds to a message it forwards to a dead-letter topic,
as Pub/Sub does: the original data and attributes are kept; the four source attributes
(named in :mod:`switchboard_contract.attributes`) are added.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from switchboard_contract.attributes import (
    DEAD_LETTER_DELIVERY_COUNT as DELIVERY_COUNT,
)
from switchboard_contract.attributes import (
    DEAD_LETTER_SOURCE_SUBSCRIPTION as SOURCE_SUBSCRIPTION,
)
from switchboard_contract.attributes import (
    DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT as SOURCE_SUBSCRIPTION_PROJECT,
)
from switchboard_contract.attributes import (
    DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME as SOURCE_TOPIC_PUBLISH_TIME,
)


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
