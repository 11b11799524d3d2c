"""What the local console costs ``make dev``: start-up time, and the fault suite's burst.

Each measurement runs the whole fleet (``python -m localdev up``, sandbox included, as
``make dev`` does) twice per round, console on and ``--no-console`` off, in alternating
order (on/off, off/on, ...), on the same machine in the same run; the result is the ratio
of the medians (console on / console off).

- start-up: wall time from spawning ``python -m localdev up`` to ``.local/platform.json``
  (written when the platform is ready);
- burst: the short fault suite's burst (tests/faults: 1,000 ``notification.requested`` to
  ``notifications``: the notifier texts each through the sandbox, the ledger records each)
  after a 5-event warm-up, from the first publish until the trace shows every event acked
  by both; with the console on, one page's live stream (``/api/stream``) is read
  throughout, as an open browser tab would.

    .venv/bin/python -m bench.console_overhead [--rounds 3] [--burst-rounds 2] [--events 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.common import REPO_ROOT, machine, table

READY_TIMEOUT = 180
CONSOLE_PHASE = re.compile(r"topology ([0-9.]+)s, console ([0-9.]+)s")
BURST_TIMEOUT = 1800


@contextmanager
def fleet(console: bool) -> Iterator[tuple[dict[str, Any], float]]:
    """A running fleet and how long it took to be ready; stopped on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp) / ".local"
        command = [sys.executable, "-m", "localdev", "up", "--base-port", "0"]
        command += ["--state-dir", str(state_dir), "--log-level", "WARNING"]
        command += [] if console else ["--no-console"]
        log = (Path(tmp) / "platform.out").open("wb")
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            state_file = state_dir / "platform.json"
            while not state_file.is_file():
                if process.poll() is not None or time.perf_counter() - started > READY_TIMEOUT:
                    raise SystemExit((Path(tmp) / "platform.out").read_text())
                time.sleep(0.02)
            ready = time.perf_counter() - started
            state = json.loads(state_file.read_text())
            banner = wait_banner(Path(tmp) / "platform.out")
            if phase := CONSOLE_PHASE.search(banner):  # the console's own start, in-process
                state["console_phase"] = float(phase[2]) - float(phase[1])
            yield state, ready
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=90)
            log.close()


def wait_banner(output: Path, timeout: float = 30) -> str:
    """The banner's "ready in ..." line (printed just after platform.json is written)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in output.read_text(errors="replace").splitlines():
            if line.startswith("ready in "):
                return line
        time.sleep(0.05)
    return ""


def notifications(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """The fault suite's burst messages (tests/faults/test_faults.py, scenario 6)."""
    tag = uuid.uuid4().hex[:6]
    messages = []
    for index in range(count):
        event_id = str(uuid.uuid4())
        data = {"to": f"+4477009{index:05d}", "body": f"burst {tag} {index}", "purpose": "other"}
        attributes = {
            "type": "notification.requested",
            "event_id": event_id,
            "source": "bench",
            "correlation_id": event_id,
            "causation_id": "",
        }
        messages.append((json.dumps(data).encode(), attributes))
    return messages


def publish(state: dict[str, Any], messages: list[tuple[bytes, dict[str, str]]]) -> None:
    os.environ["PUBSUB_EMULATOR_HOST"] = state["pubsub"]["emulator_host"]
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(state["project"], "notifications")
    futures = [publisher.publish(topic, data, **attributes) for data, attributes in messages]
    for future in futures:
        future.result(timeout=120)


def wait_settled(state: dict[str, Any], ids: set[str]) -> None:
    """Until the notifier and the ledger acked every one of ``ids``."""
    wanted = {(agent, event_id) for agent in ("notifier", "ledger") for event_id in ids}
    seen: set[tuple[str, str]] = set()
    offset, deadline = 0, time.monotonic() + BURST_TIMEOUT
    with Path(state["trace"]).open("rb") as trace:
        while not wanted <= seen:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(seen & wanted)}/{len(wanted)} acks in time")
            trace.seek(offset)
            chunk = trace.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.splitlines():
                event = json.loads(line)
                if event.get("outcome") == "acked":
                    seen.add((event.get("agent"), event.get("event_id")))
            time.sleep(0.5)


@contextmanager
def open_page(state: dict[str, Any]) -> Iterator[None]:
    """One browser tab's worth of console: the live stream, read until the end."""
    console = state.get("console")
    if not console:
        yield
        return
    stop = threading.Event()
    response = requests.get(console["url"] + "/api/stream", stream=True, timeout=30)

    def read() -> None:
        while not stop.is_set() and response.raw.readline():
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield
    finally:
        stop.set()
        response.close()


def burst(console: bool, count: int) -> tuple[float, float]:
    """(seconds to ready, seconds for the burst) of one fresh fleet."""
    with fleet(console) as (state, ready), open_page(state):
        warm = notifications(5)
        publish(state, warm)
        wait_settled(state, {a["event_id"] for _, a in warm})
        messages = notifications(count)
        started = time.perf_counter()
        publish(state, messages)
        wait_settled(state, {a["event_id"] for _, a in messages})
        return ready, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="start-up rounds (on + off each)")
    parser.add_argument("--burst-rounds", type=int, default=2, help="burst rounds (on + off)")
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args(argv)
    ready: dict[bool, list[float]] = {True: [], False: []}
    bursts: dict[bool, list[float]] = {True: [], False: []}
    phases: list[float] = []
    for round_number in range(args.rounds):
        for console in (True, False) if round_number % 2 == 0 else (False, True):
            with fleet(console) as (state, seconds):
                ready[console].append(seconds)
                if "console_phase" in state:
                    phases.append(state["console_phase"])
            print(f"start-up, console {'on' if console else 'off'}: {seconds:.2f}s", flush=True)
    for round_number in range(args.burst_rounds):
        for console in (True, False) if round_number % 2 == 0 else (False, True):
            seconds_ready, seconds = burst(console, args.events)
            ready[console].append(seconds_ready)
            bursts[console].append(seconds)
            print(f"burst, console {'on' if console else 'off'}: {seconds:.1f}s", flush=True)
    rows = []
    for name, samples in (
        ("start-up to ready (s)", ready),
        (f"{args.events}-event burst (s)", bursts),
    ):
        if not samples[True] or not samples[False]:
            continue
        on, off = statistics.median(samples[True]), statistics.median(samples[False])
        rows.append(
            [
                name,
                f"{off:.2f}",
                f"{on:.2f}",
                f"{on / off:.3f}",
                " ".join(f"{s:.2f}" for s in samples[False]),
                " ".join(f"{s:.2f}" for s in samples[True]),
            ]
        )
    print(f"machine: {machine()}")
    headers = ["measure", "console off (median)", "console on (median)", "ratio on/off"]
    print(table([*headers, "off samples", "on samples"], rows))
    if phases and ready[False]:
        own = statistics.median(phases)
        print(
            f"the console's own start inside the platform (median of {len(phases)}): "
            f"{own:.3f}s = {own / statistics.median(ready[False]):.1%} of the console-off "
            "start-up (it runs while the agents start, so it adds at most about that)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
