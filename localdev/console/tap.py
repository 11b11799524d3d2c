"""A copy of every message published to a catalogue topic, for the console.

The trace says what happened to a delivery but not what the message carried. The console
gives each topic one more pull subscription (``console-tap-<topic>``, no filter, never
dead-lettered), pulls it and acks at once, and keeps the newest messages in memory,
indexed by message id, event id, correlation id and causation id. Local only: the
deployed program has no such subscriptions.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions

TAP_PREFIX = "console-tap-"
MAX_MESSAGES = 5_000
MAX_DATA_BYTES = 64 * 1024
MAX_STORE_BYTES = 64 * 1024 * 1024
"""All kept data together; the oldest messages go first past either bound."""
PULL_BATCH = 100
PULL_WAIT_SECONDS = 2.0
TAP_RETENTION = "600s"


def tap_subscription_id(topic: str) -> str:
    return f"{TAP_PREFIX}{topic}"


@dataclass(frozen=True)
class TappedMessage:
    topic: str
    message_id: str
    attributes: dict[str, str]
    data: bytes
    size: int
    publish_time: str

    @property
    def event_id(self) -> str:
        return self.attributes.get("event_id", "") or self.message_id

    def to_json(self) -> dict[str, Any]:
        """Attributes and data decoded for people: JSON if it parses, text, else base64."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError:
            decoded: Any = {"base64": base64.b64encode(self.data).decode()}
            kind = "binary"
        else:
            try:
                decoded, kind = json.loads(text), "json"
            except ValueError:
                decoded, kind = text, "text"
        return {
            "topic": self.topic,
            "message_id": self.message_id,
            "event_id": self.event_id,
            "type": self.attributes.get("type", ""),
            "correlation_id": self.attributes.get("correlation_id", ""),
            "causation_id": self.attributes.get("causation_id", ""),
            "attributes": self.attributes,
            "data": decoded,
            "data_kind": kind,
            "size": self.size,
            "truncated": self.size > len(self.data),
            "publish_time": self.publish_time,
        }


class MessageStore:
    """The newest ``limit`` tapped messages, at most ``max_bytes`` of data; thread-safe."""

    def __init__(self, limit: int = MAX_MESSAGES, max_bytes: int = MAX_STORE_BYTES) -> None:
        self._limit = limit
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._messages: OrderedDict[tuple[str, str], TappedMessage] = OrderedDict()

    def add(self, message: TappedMessage) -> None:
        with self._lock:
            previous = self._messages.pop((message.topic, message.message_id), None)
            self._bytes -= len(previous.data) if previous else 0
            self._messages[(message.topic, message.message_id)] = message
            self._bytes += len(message.data)
            while len(self._messages) > self._limit or (
                self._bytes > self._max_bytes and len(self._messages) > 1
            ):
                _, oldest = self._messages.popitem(last=False)
                self._bytes -= len(oldest.data)

    def all(self) -> list[TappedMessage]:
        with self._lock:
            return list(self._messages.values())

    def by_ids(self, ids: Iterable[str]) -> list[TappedMessage]:
        """Messages whose message id, event id, correlation id or causation id is in ids."""
        wanted = set(ids)
        return [
            m
            for m in self.all()
            if wanted
            & {
                m.message_id,
                m.event_id,
                m.attributes.get("correlation_id", ""),
                m.attributes.get("causation_id", ""),
            }
        ]


def create_taps(project: str, topics: Iterable[str], subscriber: Any) -> list[str]:
    """One unfiltered pull subscription per topic (existing ones are reused)."""
    created = []
    for topic in topics:
        subscription = subscriber.subscription_path(project, tap_subscription_id(topic))
        with contextlib.suppress(exceptions.AlreadyExists):
            subscriber.create_subscription(
                request={
                    "name": subscription,
                    "topic": f"projects/{project}/topics/{topic}",
                    "ack_deadline_seconds": 10,
                    "message_retention_duration": TAP_RETENTION,
                }
            )
        created.append(subscription)
    return created


def _publish_time(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return datetime.now(UTC).isoformat()


class Tap:
    """Pulls every topic's tap subscription into a :class:`MessageStore` (one thread each)."""

    def __init__(self, project: str, topics: Iterable[str], subscriber: Any) -> None:
        self.project = project
        self.topics = list(topics)
        self.store = MessageStore()
        self._subscriber = subscriber
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        create_taps(self.project, self.topics, self._subscriber)
        for topic in self.topics:
            thread = threading.Thread(
                target=self._run, args=(topic,), name=f"console-tap-{topic}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, topic: str) -> None:
        path = self._subscriber.subscription_path(self.project, tap_subscription_id(topic))
        while not self._stop.is_set():
            try:
                response = self._subscriber.pull(
                    request={"subscription": path, "max_messages": PULL_BATCH},
                    timeout=PULL_WAIT_SECONDS,
                    retry=None,
                )
            except exceptions.DeadlineExceeded:
                continue
            except Exception:  # emulator gone (stopping) or transient: back off
                self._stop.wait(1.0)
                continue
            received = list(response.received_messages)
            if not received:
                continue
            for item in received:
                message = item.message
                data = bytes(message.data)
                self.store.add(
                    TappedMessage(
                        topic=topic,
                        message_id=message.message_id,
                        attributes=dict(message.attributes),
                        data=data[:MAX_DATA_BYTES],
                        size=len(data),
                        publish_time=_publish_time(message.publish_time),
                    )
                )
            with contextlib.suppress(exceptions.GoogleAPICallError):
                self._subscriber.acknowledge(
                    request={"subscription": path, "ack_ids": [r.ack_id for r in received]}
                )
