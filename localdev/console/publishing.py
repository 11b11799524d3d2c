"""The console's publish form: the event types the catalogue declares, with their
schemas and a valid example of each (``library/event_examples.py``, the examples the
scaffold's tests start from), and publishing through ``localdev.publish`` (the same path
as ``make publish``)."""

from __future__ import annotations

from typing import Any

from infra.catalogue import Catalogue
from library.event_examples import example
from localdev.console.guard import RefusedError

MAX_EVENT_TYPES = 200


def _registry() -> dict[str, Any]:
    """The runtime's schema registry (``functions/shared/switchboard_runtime/events.py``)."""
    from switchboard_runtime.events import EVENT_TYPES

    return dict(EVENT_TYPES)


def event_types(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every (topic, event type) the catalogue declares, with its JSON schema and a valid
    example of its data if the runtime knows the type (else the form says it cannot be
    published)."""
    registry = _registry()
    found = []
    for topic_name, topic in catalogue.topics.items():
        for event_type in topic.event_types:
            spec = registry.get(event_type)
            found.append(
                {
                    "topic": topic_name,
                    "type": event_type,
                    "schema": spec.model.model_json_schema() if spec is not None else None,
                    "example": example(event_type) if spec is not None else None,
                }
            )
    return found[:MAX_EVENT_TYPES]


def publish(catalogue: Catalogue, client: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Validate the form's fields and publish; ``client`` is a ``PlatformClient``."""
    topic, event_type, data = body.get("topic"), body.get("type"), body.get("data")
    if not isinstance(topic, str) or topic not in catalogue.topics:
        raise RefusedError(400, f"topic must be one of {', '.join(catalogue.topics)}")
    if not isinstance(event_type, str) or event_type not in catalogue.topics[topic].event_types:
        raise RefusedError(400, f"topic {topic} carries no event type {event_type!r}")
    if not isinstance(data, dict):
        raise RefusedError(400, "data must be a JSON object")
    correlation = body.get("correlation_id") or None
    if correlation is not None and not isinstance(correlation, str):
        raise RefusedError(400, "correlation_id must be text")
    try:
        from localdev.publish import PublishError, publish_event
    except ImportError:
        raise RefusedError(501, "this tree has no localdev/publish.py yet") from None
    try:
        published = publish_event(
            topic,
            event_type,
            data,
            correlation_id=correlation,
            source="console",
            client=client,
        )
    except PublishError as error:
        raise RefusedError(400, str(error)) from None
    return {
        "topic": published.topic,
        "type": published.event_type,
        "event_id": published.event_id,
        "correlation_id": published.correlation_id,
        "message_id": published.message_id,
    }
