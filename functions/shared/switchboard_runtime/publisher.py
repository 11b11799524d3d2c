"""Publish follow-up events with the contract's attributes and deterministic event ids.

Attributes on every message: ``type``, ``event_id``, ``source`` (the agent),
``correlation_id`` (inherited from the causing event, else the event's own id),
``causation_id`` (the causing event's id, empty for an origin event) and
``schema_version``. A follow-up's ``event_id`` is derived from the causing event id and
a purpose string, so a retried handler publishes the same ids and consumers deduplicate.
Topic ids come from ``SWITCHBOARD_TOPIC_<TOPIC>``.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from switchboard_contract import attributes as attr
from switchboard_contract.environment import DEAD_LETTERS, topic_env_var

from switchboard_runtime import clients

EVENT_ID_NAMESPACE = uuid.UUID("6f0b8a52-3c1e-4d5e-9a4f-2b7d9c1e0f11")
PUBLISH_TIMEOUT_SECONDS = 30.0


class ConfigurationError(RuntimeError):
    """An environment variable of the contract is missing or malformed."""


def derive_event_id(cause: str, purpose: str) -> str:
    """A stable event id for the event published for ``purpose`` because of ``cause``."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause}\x1f{purpose}"))


def topic_id(topic: str) -> str:
    name = topic_env_var(topic)
    value = os.environ.get(name)
    if not value:
        raise ConfigurationError(f"{name} is not set: this agent does not publish to {topic!r}")
    return value


def dead_letter_topics() -> dict[str, str]:
    raw = os.environ.get(DEAD_LETTERS) or "{}"
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{DEAD_LETTERS} is not JSON: {exc}") from exc
    if not isinstance(mapping, dict):
        raise ConfigurationError(f"{DEAD_LETTERS} is not a JSON object")
    return {str(k): str(v) for k, v in mapping.items()}


def encode_data(data: Any) -> bytes:
    if hasattr(data, "model_dump_json"):
        return data.model_dump_json(exclude_none=True).encode()
    return json.dumps(data, separators=(",", ":"), sort_keys=True, default=str).encode()


def publish_raw(
    topic: str, data: bytes, attributes: dict[str, str], timeout: float | None = None
) -> str:
    """Publish to topic id ``topic`` and wait for the server's message id."""
    client = clients.publisher_client()
    future = client.publish(clients.topic_path(topic), data, **attributes)
    return str(future.result(timeout=timeout or PUBLISH_TIMEOUT_SECONDS))


def event_message(
    topic: str,
    event_type: str,
    data: Any,
    *,
    event_id: str,
    source: str,
    correlation_id: str,
    causation_id: str = "",
    extra_attributes: dict[str, str] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The encoded data and the contract's attributes of one event, validated: ``data``
    against ``event_type``'s schema, ``event_type`` against logical ``topic``."""
    from switchboard_runtime.events import spec_for, validate

    spec = spec_for(event_type)
    if spec.topic != topic:
        raise ConfigurationError(f"{event_type} belongs on topic {spec.topic!r}, not {topic!r}")
    model = validate(event_type, data.model_dump() if hasattr(data, "model_dump") else data)
    attributes = {
        attr.TYPE: event_type,
        attr.EVENT_ID: event_id,
        attr.SOURCE: source,
        attr.CORRELATION_ID: correlation_id or event_id,
        attr.CAUSATION_ID: causation_id,
        attr.SCHEMA_VERSION: str(spec.version),
        **(extra_attributes or {}),
    }
    return encode_data(model), attributes


def publish_event(
    topic: str,
    event_type: str,
    data: Any,
    *,
    event_id: str,
    source: str,
    correlation_id: str,
    causation_id: str = "",
    extra_attributes: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Validate ``data`` against ``event_type``'s schema and publish it to logical ``topic``."""
    body, attributes = event_message(
        topic,
        event_type,
        data,
        event_id=event_id,
        source=source,
        correlation_id=correlation_id,
        causation_id=causation_id,
        extra_attributes=extra_attributes,
    )
    publish_raw(topic_id(topic), body, attributes, timeout=timeout)
    return event_id
