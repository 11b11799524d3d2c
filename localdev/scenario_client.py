"""A handle on the running local platform for scenarios: found via ``.local/platform.json``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from switchboard_contract import attributes as attr

from localdev.state import read_state
from localdev.trace import ACKED, TraceEvent, read_trace


class ScenarioError(AssertionError):
    """An expectation of a scenario step was not met in time."""


class PlatformClient:
    """HTTP to the agents and the sandbox, publishing, and the trace."""

    def __init__(self, state_file: Path) -> None:
        self.state = read_state(state_file)
        self.project: str = self.state["project"]
        self.trace_path = Path(self.state["trace"])
        self.http = requests.Session()
        self._clients: tuple[Any, Any] | None = None

    # -- Pub/Sub -------------------------------------------------------------------------

    def pubsub(self) -> tuple[Any, Any]:
        if self._clients is None:
            import os

            os.environ["PUBSUB_EMULATOR_HOST"] = self.state["pubsub"]["emulator_host"]
            from google.cloud import pubsub_v1

            self._clients = (pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient())
        return self._clients

    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        publisher, _ = self.pubsub()
        future = publisher.publish(f"projects/{self.project}/topics/{topic}", data, **attributes)
        return str(future.result(timeout=30))

    def peek_dead_letters(self, subscription_id: str, event_id: str) -> list[dict[str, Any]]:
        """Dead-lettered messages carrying ``event_id``, left on the subscription for
        ``tools/deadletters`` (pulled, then nacked)."""
        from google.api_core import exceptions

        _, subscriber = self.pubsub()
        path = f"projects/{self.project}/subscriptions/{subscription_id}"
        try:
            response = subscriber.pull(
                request={"subscription": path, "max_messages": 100}, timeout=3, retry=None
            )
        except exceptions.DeadlineExceeded:
            return []
        found, ack_ids = [], []
        for received in response.received_messages:
            ack_ids.append(received.ack_id)
            attributes = dict(received.message.attributes)
            if attributes.get(attr.EVENT_ID) == event_id:
                found.append({"data": bytes(received.message.data), "attributes": attributes})
        if ack_ids:
            subscriber.modify_ack_deadline(
                request={"subscription": path, "ack_ids": ack_ids, "ack_deadline_seconds": 0}
            )
        return found

    # -- HTTP ----------------------------------------------------------------------------

    def agent_url(self, agent: str) -> str:
        return str(self.state["agents"][agent]["url"])

    def sandbox_url(self) -> str | None:
        sandbox = self.state.get("sandbox")
        return str(sandbox["url"]) if sandbox else None

    def secret(self, name: str) -> str:
        return str(self.state["secrets"][name]["value"])

    def sandbox(self, method: str, path: str, document: Any = None) -> Any:
        url = self.sandbox_url()
        if url is None:
            raise ScenarioError("the platform runs without the sandbox")
        response = self.http.request(method, url + path, json=document, timeout=10)
        response.raise_for_status()
        return response.json()

    # -- the trace -----------------------------------------------------------------------

    def trace_mark(self) -> int:
        return len(read_trace(self.trace_path))

    def trace_since(self, mark: int) -> list[TraceEvent]:
        return read_trace(self.trace_path)[mark:]

    def wait_for_event(
        self,
        mark: int,
        what: str,
        match: Callable[[TraceEvent], bool],
        timeout: float,
    ) -> TraceEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.trace_since(mark):
                if match(event):
                    return event
            time.sleep(0.2)
        raise ScenarioError(f"no trace of {what} within {timeout:.0f}s")

    def wait_for_ack(
        self, mark: int, agent: str, event_type: str, correlation_id: str, timeout: float
    ) -> TraceEvent:
        return self.wait_for_event(
            mark,
            f"{agent} acking {event_type} (correlation {correlation_id[:8]})",
            lambda e: (
                e.agent == agent
                and e.event_type == event_type
                and e.outcome == ACKED
                and e.correlation_id == correlation_id
            ),
            timeout,
        )
