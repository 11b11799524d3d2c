"""The injection hooks themselves, without emulators: the duplicate-delivery hook of the
delivery loop and its switch."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.catalogue.filter_language import parse_filter
from localdev.delivery import (
    DUPLICATE_INJECTED,
    DUPLICATE_RATE_ENV,
    DeliveryLoop,
    Route,
    duplicate_rate,
)
from localdev.faults import running
from localdev.trace import ACKED, TraceWriter, read_trace

pytestmark = [pytest.mark.faults]


def test_duplicate_rate_is_off_unless_asked_for() -> None:
    assert duplicate_rate({}) == 0.0
    assert duplicate_rate({DUPLICATE_RATE_ENV: ""}) == 0.0
    assert duplicate_rate({DUPLICATE_RATE_ENV: "0.3"}) == 0.3
    with pytest.raises(ValueError, match="between 0 and 1"):
        duplicate_rate({DUPLICATE_RATE_ENV: "30"})


@pytest.fixture
def agent() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", received
    finally:
        server.shutdown()
        server.server_close()


class FakeSubscriber:
    def __init__(self) -> None:
        self.acked: list[str] = []

    def acknowledge(self, request: dict[str, Any], retry: Any = None) -> None:
        self.acked += request["ack_ids"]


def _received(index: int) -> Any:
    message = SimpleNamespace(
        data=b"{}",
        attributes={"type": "order.placed", "event_id": f"e{index}"},
        message_id=str(index),
        publish_time=datetime.now(UTC),
    )
    return SimpleNamespace(ack_id=f"ack{index}", message=message, delivery_attempt=1)


@pytest.mark.parametrize(("rate", "copies"), [(0.0, 1), (1.0, 2)])
def test_injected_duplicates_are_pushed_and_traced_but_never_decide_the_ack(
    agent: tuple[str, list[dict[str, Any]]], tmp_path: Path, rate: float, copies: int
) -> None:
    endpoint, received = agent
    route = Route(
        agent="recorder",
        subscription_id="recorder-on-orders",
        project="p",
        endpoint=endpoint,
        filter=parse_filter(""),
        ack_deadline_seconds=10,
        minimum_backoff_seconds=1,
        maximum_backoff_seconds=2,
        max_delivery_attempts=5,
        dead_letter_topic_id="recorder-on-orders-dead-letter",
        in_flight=2,
    )
    trace = TraceWriter(tmp_path / "trace.jsonl", stream=io.StringIO())
    subscriber = FakeSubscriber()
    loop = DeliveryLoop(route, subscriber, None, trace, duplicate_rate=rate)  # type: ignore[arg-type]
    try:
        for index in range(5):
            loop._deliver(_received(index))
        deadline = time.monotonic() + 5
        while len(received) < 5 * copies and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        trace.close()
    ids = sorted(body["message"]["attributes"]["event_id"] for body in received)
    assert ids == sorted([f"e{i}" for i in range(5)] * copies)
    assert subscriber.acked == [f"ack{i}" for i in range(5)]  # one ack per message
    outcomes = [event.outcome for event in read_trace(tmp_path / "trace.jsonl")]
    assert outcomes.count(ACKED) == 5
    assert outcomes.count(DUPLICATE_INJECTED) == 5 * (copies - 1)


def test_a_zombie_is_not_running(tmp_path: Path) -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child.pid)  # exited, not reaped yet
    child.wait(5)
