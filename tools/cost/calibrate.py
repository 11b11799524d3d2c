"""``python -m tools.cost.calibrate``: run the scenarios on the local platform and write
``cost/calibration.json`` from what the run left behind (tools/cost/measure.py).

Starts ``python -m localdev up --base-port 0`` (emulators, sandbox, every agent) in its own
process group in a temporary state folder, runs the ``booking`` scenario ``--runs`` times
(a booking confirmed, paid and reminded: every agent, every topic), times extra booking
requests at the gateway, waits for the trace to go quiet, then reads the trace, the
Firestore emulator's documents, the sandbox's request record and the agents' logs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra.catalogue.loader import load_catalogue
from library import gcp_types
from library.render_format import load
from localdev.scenario_client import PlatformClient
from localdev.scenarios import _request_booking, _slot, customer_name, customer_phone, run
from localdev.trace import read_trace
from tools.cost.calibration import CALIBRATION_FILE, Calibration, load_calibration
from tools.cost.measure import CREATED, RunRecord, measure

REPO = Path(__file__).resolve().parents[2]
PROJECT = "switchboard-calibrate"
START_TIMEOUT_S = 180
QUIET_S = 5.0
MAX_RUNS = 20


def ttl_collections(render_path: Path = REPO / "rendered" / "dev.json") -> frozenset[str]:
    """Collections with a TTL policy in the render (their documents do not accumulate)."""
    return frozenset(
        r.inputs["collection"]
        for r in load(render_path).resources
        if r.type == gcp_types.FIRESTORE_FIELD and "ttlConfig" in r.inputs
    )


class LocalRun:
    """``python -m localdev up`` in a temporary state folder, stopped on exit."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.state_file = state_dir / "platform.json"
        self.output = state_dir / "platform-output.txt"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalRun:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "localdev", "up", "--state-dir", str(self.state_dir)]
        command += ["--project", PROJECT, "--base-port", "0", "--no-console"]
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                cwd=REPO,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.state_file.is_file():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.output.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the local platform did not start:\n{tail}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _wait_quiet(trace: Path) -> None:
    count, since = -1, time.monotonic()
    while time.monotonic() - since < QUIET_S:
        now = len(read_trace(trace))
        if now != count:
            count, since = now, time.monotonic()
        time.sleep(0.5)


def _documents(state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    os.environ["FIRESTORE_EMULATOR_HOST"] = state["firestore"]["emulator_host"]
    from google.cloud import firestore

    client = firestore.Client(project=state["project"])
    return {
        collection.id: [
            {**(doc.to_dict() or {}), CREATED: doc.create_time.isoformat()}
            for doc in collection.stream()
        ]
        for collection in client.collections()
    }


def _log_sizes(state: dict[str, Any]) -> dict[str, tuple[int, int]]:
    sizes = {}
    for agent, process in state["agents"].items():
        raw = Path(process["log"]).read_bytes()
        sizes[agent] = (raw.count(b"\n"), len(raw))
    return sizes


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15)
        cpu = sum(int(f) for f in fields[11:15]) / ticks
        stats[int(entry.name)] = (int(fields[1]), cpu)
    total, frontier = 0.0, {pid}
    while frontier:
        total += sum(stats[p][1] for p in frontier if p in stats)
        frontier = {p for p, (parent, _) in stats.items() if parent in frontier}
    return total


def _cpu(state: dict[str, Any]) -> dict[str, float]:
    return {agent: _cpu_seconds(int(p["pid"])) for agent, p in state["agents"].items()}


def record_run(state_dir: Path, runs: int, gateway_requests: int) -> tuple[RunRecord, dict]:
    with LocalRun(state_dir) as platform:
        client = PlatformClient(platform.state_file)
        state = client.state
        before, cpu_before = _log_sizes(state), _cpu(state)
        for _ in range(runs):
            report = run("booking", client, timeout=120)
            if not report.ok:
                raise RuntimeError(f"the booking scenario failed: {report}")
        timings = []
        for _ in range(gateway_requests):
            start, end = _slot(30, 60)
            began = time.monotonic()
            _request_booking(client, customer_name("Cal"), start, end, customer_phone())
            timings.append((time.monotonic() - began) * 1000)
        _wait_quiet(Path(state["trace"]))
        after, cpu_after = _log_sizes(state), _cpu(state)
        logs = {a: (after[a][0] - before[a][0], after[a][1] - before[a][1]) for a in after}
        third_party: dict[str, int] = {}
        for request in client.sandbox("GET", "/_sandbox/requests")["requests"]:
            third_party[request["service"]] = third_party.get(request["service"], 0) + 1
        trace = read_trace(Path(state["trace"]))
        origin = sum(1 for e in trace if e.agent == "ledger" and not e.causation_id)
        record = RunRecord(
            trace=trace,
            documents=_documents(state),
            third_party=third_party,
            logs=logs,
            cpu_seconds={a: cpu_after[a] - cpu_before.get(a, 0.0) for a in cpu_after},
            gateway_ms=timings,
            gateway_requests=origin,
            ttl_collections=ttl_collections(),
        )
        return record, state


def calibrate(runs: int, gateway_requests: int, previous: Calibration | None) -> Calibration:
    with tempfile.TemporaryDirectory(prefix="switchboard-calibrate-") as folder:
        record, _ = record_run(Path(folder) / ".local", runs, gateway_requests)
    how = (
        f"make cost-calibrate: {runs} run(s) of the booking scenario and {gateway_requests} timed "
        "booking requests on the local platform (emulators, sandbox, real agents); "
        "firestore_reads are not measurable on the emulator and are carried over as stated"
    )
    measured = measure(record, load_catalogue(), dt.datetime.now(dt.UTC).isoformat(), how)
    if previous is None:
        return measured
    agents = {
        agent: {
            event_type: behaviour.model_copy(
                update={"firestore_reads": previous.behaviour(agent, event_type).firestore_reads}
            )
            for event_type, behaviour in per_type.items()
        }
        for agent, per_type in measured.agents.items()
    }
    return measured.model_copy(update={"agents": agents})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost.calibrate", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=3, choices=range(1, MAX_RUNS + 1), metavar="1-20"
    )
    parser.add_argument(
        "--gateway-requests", type=int, default=5, choices=range(51), metavar="0-50"
    )
    parser.add_argument("--output", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    previous = load_calibration(args.output) if args.output.is_file() else None
    try:
        calibration = calibrate(args.runs, args.gateway_requests, previous)
    except RuntimeError as error:
        print(f"cost-calibrate: {error}", file=sys.stderr)
        return 1
    args.output.write_text(calibration.model_dump_json(indent=2, exclude_defaults=False) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
