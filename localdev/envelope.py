"""The push envelope: the JSON body Pub/Sub POSTs to a push endpoint (wrapped format).

Pure functions, no I/O: the delivery loop builds one envelope per delivery attempt.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def rfc3339(moment: datetime) -> str:
    """``2026-11-27T00:02:09.342000Z``: UTC, microseconds, a ``Z`` suffix (as Pub/Sub sends)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def subscription_path(project: str, subscription_id: str) -> str:
    return f"projects/{project}/subscriptions/{subscription_id}"


def push_envelope(
    *,
    data: bytes,
    attributes: Mapping[str, str],
    message_id: str,
    publish_time: datetime,
    project: str,
    subscription_id: str,
    delivery_attempt: int,
) -> dict[str, Any]:
    """The wrapped push body, with both the camelCase and snake_case id/time keys Pub/Sub sends."""
    published = rfc3339(publish_time)
    message: dict[str, Any] = {
        "data": base64.b64encode(data).decode("ascii"),
        "attributes": dict(attributes),
        "messageId": message_id,
        "message_id": message_id,
        "publishTime": published,
        "publish_time": published,
    }
    return {
        "message": message,
        "subscription": subscription_path(project, subscription_id),
        "deliveryAttempt": delivery_attempt,
    }
