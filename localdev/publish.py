"""Publish one event into the running local platform, as an origin publisher would.

The data is validated against the event type's schema in the runtime's registry
(``switchboard_runtime/events.py``) and carries the contract's attributes (``type``,
``event_id``, ``source``, ``correlation_id``, ``causation_id``, ``schema_version``),
built by the same code the agents publish with (``switchboard_runtime.publisher``).
The platform is found through ``.local/platform.json`` (:mod:`localdev.state`).

Used by ``python -m localdev publish`` (``make publish``) and the browser console.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.scenario_client import PlatformClient
from localdev.state import DEFAULT_STATE_DIR, STATE_FILE

DEFAULT_SOURCE = "localdev"
MAX_DATA_BYTES = 1024 * 1024
"""The runtime dead-letters data over 1 MiB; refusing it here says so before publishing."""
MAX_ID_LENGTH = 128


class PublishError(ValueError):
    """The event cannot be published as asked: the message says which part is wrong."""


@dataclass(frozen=True)
class PublishedEvent:
    topic: str
    event_type: str
    event_id: str
    correlation_id: str
    causation_id: str
    source: str
    message_id: str
    attributes: dict[str, str]


def parse_data(text: str) -> dict[str, Any]:
    """The ``DATA`` a person typed: a JSON object, at most :data:`MAX_DATA_BYTES`."""
    if len(text.encode("utf-8")) > MAX_DATA_BYTES:
        raise PublishError(f"data is larger than {MAX_DATA_BYTES} bytes")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PublishError(
            f"data is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(data, dict):
        raise PublishError(f"data must be a JSON object, got {type(data).__name__}")
    return data


def _check_id(name: str, value: str) -> None:
    if len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise PublishError(f"{name} must be at most {MAX_ID_LENGTH} printable characters")


def event_message(
    topic: str,
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str,
    correlation_id: str,
    causation_id: str = "",
    source: str = DEFAULT_SOURCE,
) -> tuple[bytes, dict[str, str]]:
    """The validated, encoded data and attributes; PublishError naming what is wrong."""
    for name, value in (
        ("event_id", event_id),
        ("correlation_id", correlation_id),
        ("causation_id", causation_id),
        ("source", source),
    ):
        _check_id(name, value)
    if not event_id:
        raise PublishError("event_id must not be empty")
    from switchboard_runtime import publisher
    from switchboard_runtime.errors import PermanentError
    from switchboard_runtime.events import EVENT_TYPES

    if event_type not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise PublishError(f"unknown event type {event_type!r}; known types: {known}")
    try:
        return publisher.event_message(  # type: ignore[no-any-return]
            topic,
            event_type,
            data,
            event_id=event_id,
            source=source,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
    except (PermanentError, publisher.ConfigurationError) as error:
        raise PublishError(str(error)) from None


def publish_event(
    topic: str,
    event_type: str,
    data: dict[str, Any],
    *,
    correlation_id: str | None = None,
    causation_id: str = "",
    event_id: str | None = None,
    source: str = DEFAULT_SOURCE,
    client: PlatformClient | None = None,
    state_file: Path = DEFAULT_STATE_DIR / STATE_FILE,
) -> PublishedEvent:
    """Validate and publish one event to the running platform; its ids and message id.

    ``event_id`` defaults to a new UUID and ``correlation_id`` to the event id (an origin
    event). Raises PublishError for a problem with the event, NoPlatformError when no
    platform runs (``client`` given: that platform).
    """
    event_id = event_id or str(uuid.uuid4())
    correlation_id = correlation_id or event_id
    body, attributes = event_message(
        topic,
        event_type,
        data,
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        source=source,
    )
    client = client or PlatformClient(state_file)
    topics = client.state.get("topics")
    if isinstance(topics, list) and topic not in topics:
        raise PublishError(f"the running platform has no topic {topic!r}")
    message_id = client.publish(topic, body, attributes)
    return PublishedEvent(
        topic=topic,
        event_type=event_type,
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        source=source,
        message_id=message_id,
        attributes=attributes,
    )
