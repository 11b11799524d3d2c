"""A throw-away catalogue and a handle on a running ``python -m localdev up``, for tests.

The catalogue has two agents on one topic, told apart by a filter on the ``route``
attribute, so the tests never depend on the real agents:

- ``recorder`` (5 delivery attempts, 1-2 s backoff, also fed ticks on a schedule),
- ``sturdy`` (20 delivery attempts: survives a crash and restart without dead-lettering).

Both run the same ``main.py``: it appends every delivery (start and end) to
``deliveries.jsonl`` and answers according to the message's ``behaviour`` attribute.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from localdev.state import pid_alive, platform_pids
from localdev.trace import TraceEvent, read_trace

REPO = Path(__file__).resolve().parents[2]
PROJECT = "localdev-test"
T = TypeVar("T")

CATALOGUE = """
topics:
  orders:
    description: Test orders.
    event_types: [order.placed]
  ticks:
    description: Ticks.
    event_types: [tick]
secrets:
  demo-webhook-secret:
    description: A webhook signing secret.
"""

RECORDER = """
description: Records deliveries and fails on demand.
platform: function
timeout_seconds: 10
concurrency: 1
max_instances: 4
firestore: true
subscriptions:
  - topic: orders
    filter: attributes.route = "recorder"
    ack_deadline_seconds: 10
    retry: {minimum_backoff_seconds: 1, maximum_backoff_seconds: 2}
    max_delivery_attempts: 5
  - topic: ticks
    filter: attributes.type = "tick" AND attributes.target = "recorder"
    ack_deadline_seconds: 10
    max_delivery_attempts: 5
schedule: {cron: "*/15 * * * *", topic: ticks}
secrets: [demo-webhook-secret]
"""

STURDY = """
description: Like the recorder, with many delivery attempts.
platform: function
timeout_seconds: 10
concurrency: 1
max_instances: 4
firestore: true
subscriptions:
  - topic: orders
    filter: attributes.route = "sturdy"
    ack_deadline_seconds: 10
    retry: {minimum_backoff_seconds: 1, maximum_backoff_seconds: 1}
    max_delivery_attempts: 20
"""

MAIN = '''
"""Test agent: records each delivery and answers as the ``behaviour`` attribute says."""

import json
import os
import time

import functions_framework

RECORD_PATH_FILE = "record_file.txt"


def _record(**fields):
    line = json.dumps({"pid": os.getpid(), "agent": os.environ["SWITCHBOARD_AGENT"], **fields})
    # Where to record: a test setting, kept next to the code (manifest env is allow-listed)
    with open(os.path.join(os.path.dirname(__file__), RECORD_PATH_FILE)) as where:
        record_file = where.read().strip()
    fd = os.open(record_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\\n").encode())
    finally:
        os.close(fd)


@functions_framework.http
def handle(request):
    body = request.get_json(silent=True) or {}
    attributes = body.get("message", {}).get("attributes", {})
    behaviour = attributes.get("behaviour", "ok")
    env = {key: os.environ.get(key, "") for key in (
        "GOOGLE_CLOUD_PROJECT", "SWITCHBOARD_ENVIRONMENT", "DEMO_WEBHOOK_SECRET",
        "SWITCHBOARD_DEAD_LETTERS", "PUBSUB_EMULATOR_HOST")}
    _record(phase="start", envelope=body, env=env)
    status = 204
    if behaviour == "fail":
        status = 500
    elif behaviour == "accept":
        status = 202
    elif behaviour == "fail_once" and body.get("deliveryAttempt") == 1:
        status = 503
    elif behaviour == "slow":
        time.sleep(float(attributes.get("sleep", "3")))
    _record(phase="done", status=status, envelope=body)
    return ("", status)
'''


def write_catalogue(root: Path, record_file: Path) -> Path:
    """Write the test catalogue under ``root/functions`` and return that folder."""
    functions = root / "functions"
    (functions / "shared" / "switchboard_runtime").mkdir(parents=True)
    (functions / "shared" / "switchboard_runtime" / "__init__.py").write_text("")
    (functions / "catalogue.yaml").write_text(CATALOGUE)
    for name, manifest in (("recorder", RECORDER), ("sturdy", STURDY)):
        folder = functions / name
        folder.mkdir()
        (folder / "agent.yaml").write_text(manifest)
        (folder / "main.py").write_text(MAIN)
        (folder / "record_file.txt").write_text(str(record_file))
        (folder / "requirements.txt").write_text("functions-framework\n")
    return functions


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class LocalPlatform:
    """``python -m localdev up`` in its own process group, with helpers to inspect it."""

    def __init__(self, root: Path, functions: Path | None = None) -> None:
        """The test catalogue under ``root``, or the ``functions`` tree given."""
        self.root = root
        self.record_file = root / "deliveries.jsonl"
        self.functions = functions or write_catalogue(root, self.record_file)
        self.state_dir = root / ".local"
        self.state_file = self.state_dir / "platform.json"
        self.output = root / "platform-output.txt"
        self.process: subprocess.Popen[bytes] | None = None
        self.last_state: dict[str, Any] = {}

    def command(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "localdev",
            "up",
            "--functions-root",
            str(self.functions),
            "--state-dir",
            str(self.state_dir),
            "--project",
            PROJECT,
            "--no-sandbox",
            "--base-port",
            "0",
            *extra,
        ]

    def start(self, *extra: str, timeout: float = 90) -> dict[str, Any]:
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                self.command(*extra),
                cwd=REPO,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def ready() -> dict[str, Any] | None:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"platform exited with {self.process.returncode}:\n{self.output.read_text()}"
                )
            return self.state() if self.state_file.is_file() else None

        self.last_state = wait_for(ready, timeout, "the platform to be ready")
        return self.last_state

    def state(self) -> dict[str, Any]:
        self.last_state = json.loads(self.state_file.read_text())
        return self.last_state

    def pids(self) -> list[int]:
        return platform_pids(self.last_state)

    def ports(self) -> list[int]:
        state = self.last_state
        found = [
            state["pubsub"]["port"],
            state["firestore"]["port"],
            state["firestore"]["websocket_port"],
        ]
        if state.get("console"):
            found.append(state["console"]["port"])
        return found + [agent["port"] for agent in state["agents"].values()]

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            os.kill(self.process.pid, signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the platform had not exited {timeout:g}s after signal {signum}; its output "
                f"ends:\n{self.output.read_text(errors='replace')[-3000:]}"
            ) from None

    def kill_everything(self) -> None:
        """Last-resort cleanup: nothing this test started may survive it."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        for pid in self.pids() if self.last_state else []:
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

    # -- what happened ---------------------------------------------------------------------

    def trace(self) -> list[TraceEvent]:
        return read_trace(self.state_dir / "logs" / "trace.jsonl")

    def deliveries(self, event_id: str | None = None, phase: str = "start") -> list[dict[str, Any]]:
        if not self.record_file.is_file():
            return []
        records = [json.loads(line) for line in self.record_file.read_text().splitlines() if line]
        records = [r for r in records if r["phase"] == phase]
        if event_id is not None:
            records = [
                r
                for r in records
                if r["envelope"]["message"]["attributes"].get("event_id") == event_id
            ]
        return records

    def events(self, event_id: str) -> list[TraceEvent]:
        return [event for event in self.trace() if event.event_id == event_id]


@contextlib.contextmanager
def pubsub_clients(emulator_host: str) -> Iterator[tuple[Any, Any]]:
    """Publisher and subscriber clients bound to ``emulator_host``."""
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = emulator_host
    try:
        from google.cloud import pubsub_v1

        yield pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    finally:
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
