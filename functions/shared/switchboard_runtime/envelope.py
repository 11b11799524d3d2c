"""Parse a Pub/Sub push request (the wrapped format) into an :class:`Event`.

Two kinds of failure:

- :class:`EnvelopeError`: the body is not a push envelope at all (not JSON, no message,
  no subscription). Nothing identifies the message, so the handler answers non-2xx and
  Pub/Sub's own retry and dead-letter policy takes over: never an ack.
- :class:`~switchboard_runtime.errors.PermanentError` raised by :meth:`Event.require`
  or by the schema check: the envelope is sound but its content is not (bad base64,
  missing attributes, unknown type). The handler dead-letters the original message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from switchboard_contract import attributes as attr

from switchboard_runtime.errors import PermanentError

MAX_BODY_BYTES = 1024 * 1024  # data above this is refused as permanent (dead-lettered)
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024  # never read more than this (Pub/Sub's limit is 10 MB)
TICK_TYPE = attr.TICK_TYPE
MAX_EVENT_ID_CHARS = 128
# An event id is used verbatim as a Firestore document id (``processed_events``,
# ``ledger``, ``notifications``), so it is bounded to what Firestore accepts unchanged and
# cannot alias another id: no '/', no reserved ``__x__``, no '.'/'..', at most 128 chars.
EVENT_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{MAX_EVENT_ID_CHARS - 1}}}")


class EnvelopeError(ValueError):
    """The request is not a Pub/Sub push envelope."""


@dataclass(frozen=True)
class Event:
    """One delivered message: the envelope's facts and the message's attributes and data."""

    message_id: str
    subscription: str  # the subscription id (last path segment)
    subscription_path: str
    attributes: dict[str, str]
    raw_data: bytes  # the decoded data as published (the undecodable text when data_error)
    publish_time: str | None = None
    delivery_attempt: int | None = None
    data_error: str | None = None  # why raw_data could not be decoded (base64), if so
    body_size: int = 0
    parsed: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def type(self) -> str:
        return self.attributes.get(attr.TYPE, "")

    @property
    def event_id(self) -> str:
        """The idempotency key; ticks from Cloud Scheduler fall back to the message id."""
        found = self.attributes.get(attr.EVENT_ID, "")
        if not found and self.type == TICK_TYPE and self.message_id:
            return f"tick-{self.message_id}"
        return found

    @property
    def source(self) -> str:
        return self.attributes.get(attr.SOURCE, "")

    @property
    def correlation_id(self) -> str:
        return self.attributes.get(attr.CORRELATION_ID, "") or self.event_id

    @property
    def causation_id(self) -> str:
        return self.attributes.get(attr.CAUSATION_ID, "")

    def require(self) -> None:
        """Raise PermanentError unless the message can be processed at all."""
        if self.data_error:
            raise PermanentError(f"undecodable data: {self.data_error}")
        if len(self.raw_data) > MAX_BODY_BYTES or self.body_size > MAX_ENVELOPE_BYTES:
            raise PermanentError(f"data of {len(self.raw_data)} bytes is over {MAX_BODY_BYTES}")
        if not self.type:
            raise PermanentError("attribute 'type' is missing")
        if not self.event_id:
            raise PermanentError("attribute 'event_id' is missing")
        check_event_id(self.event_id)

    def json_data(self) -> Any:
        """The data as JSON (empty data -> {}); PermanentError when it is not JSON."""
        if not self.raw_data.strip():
            return {}
        try:
            return json.loads(self.raw_data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PermanentError(f"data is not JSON: {exc}") from exc
        except RecursionError:
            raise PermanentError("data is nested too deeply to parse") from None


def check_event_id(event_id: str) -> str:
    """``event_id`` unchanged, or PermanentError saying why it can never be processed."""
    if EVENT_ID_PATTERN.fullmatch(event_id):
        return event_id
    if len(event_id) > MAX_EVENT_ID_CHARS:
        raise PermanentError(f"event_id of {len(event_id)} chars is over {MAX_EVENT_ID_CHARS}")
    raise PermanentError(
        f"event_id {event_id[:40]!r} is not 1-{MAX_EVENT_ID_CHARS} of [A-Za-z0-9._:-] "
        "starting with a letter or digit"
    )


def parse_envelope(body: bytes) -> Event:
    """The :class:`Event` in a wrapped push body; EnvelopeError when it is not one."""
    if len(body) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"body of {len(body)} bytes is over {MAX_ENVELOPE_BYTES}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EnvelopeError("body is not a JSON object")
    message = document.get("message")
    if not isinstance(message, dict):
        raise EnvelopeError("'message' is missing or not an object")
    subscription_path = document.get("subscription")
    if not isinstance(subscription_path, str) or not subscription_path.strip("/"):
        raise EnvelopeError("'subscription' is missing or not a string")
    message_id = message.get("messageId", message.get("message_id"))
    if not isinstance(message_id, str | int) or isinstance(message_id, bool) or message_id == "":
        raise EnvelopeError("'message.messageId' is missing")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise EnvelopeError("'message.attributes' is not an object of strings")
    raw, data_error = _decode(message.get("data"))
    attempt = document.get("deliveryAttempt")
    publish_time = message.get("publishTime", message.get("publish_time"))
    return Event(
        message_id=str(message_id),
        subscription=subscription_path.rstrip("/").rsplit("/", 1)[-1],
        subscription_path=subscription_path,
        attributes=dict(attributes),
        raw_data=raw,
        publish_time=publish_time if isinstance(publish_time, str) else None,
        delivery_attempt=attempt
        if isinstance(attempt, int) and not isinstance(attempt, bool)
        else None,
        data_error=data_error,
        body_size=len(body),
    )


def _decode(data: Any) -> tuple[bytes, str | None]:
    if data is None or data == "":
        return b"", None
    if not isinstance(data, str):
        # Keep the original value (as JSON) so a dead-lettered copy carries it intact.
        return json.dumps(data).encode(), "'message.data' is not a base64 string"
    try:
        return base64.b64decode(data, validate=True), None
    except (binascii.Error, ValueError) as exc:
        return data.encode("utf-8", "surrogatepass"), f"bad base64: {exc}"


def encode_envelope(
    data: bytes,
    attributes: dict[str, str],
    *,
    subscription: str = "projects/demo/subscriptions/test",
    message_id: str = "1",
    delivery_attempt: int | None = None,
    publish_time: str = "2026-01-01T00:00:00Z",
) -> bytes:
    """A wrapped push body (for tests and the local platform)."""
    envelope: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": message_id,
            "publishTime": publish_time,
        },
        "subscription": subscription,
    }
    if delivery_attempt is not None:
        envelope["deliveryAttempt"] = delivery_attempt
    return json.dumps(envelope).encode()
