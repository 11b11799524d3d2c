"""Cold-start and per-message overhead of the agents (a measurement, not a test).

    .venv/bin/python bench/cold_start.py [--runs 7] [--messages 200]

1. Import time: each agent's ``main`` module vs a hello-world functions-framework function,
   each in fresh subprocesses (``import functions_framework`` first, as the framework
   does, then ``import main``; wall time of ``import main`` alone, median of --runs).
2. First request: in the same fresh process, the first push request against the
   emulators (the lazy imports of pydantic, Firestore, Pub/Sub land here), ledger agent.
2b. First request sent ``--delay`` (2) s after the instance listens: the real
   ``functions-framework`` command (gunicorn, as Cloud Functions runs it) in a fresh
   process, ledger vs hello-world; the agent's background warm-up has had that long.
3. Handler overhead per message, warm, on the emulators: a no-op ``Agent`` route
   (parse, validate, claim with create(), complete) vs a hello-world handler.

Starts its own emulators (localdev.emulators) on free ports and stops them by PID.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
AGENTS = ("gateway", "scheduler", "billing", "notifier", "reminders", "ledger")
HELLO = """import functions_framework


@functions_framework.http
def handle(request):
    return ("", 204)
"""
IMPORT_PROBE = r"""
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
if sys.argv[3] == "warm-framework":
    import functions_framework
started = time.perf_counter()
import main
print((time.perf_counter() - started) * 1000)
"""
FIRST_REQUEST_PROBE = r"""
import json, sys, time
sys.path[:0] = [sys.argv[2]]
started = time.perf_counter()
import functions_framework
app = functions_framework.create_app(target="handle", source=sys.argv[1] + "/main.py")
loaded = time.perf_counter()
response = app.test_client().post("/", json=json.loads(sys.argv[3]))
done = time.perf_counter()
assert response.status_code in (200, 204), response.get_data(as_text=True)
print((loaded - started) * 1000, (done - loaded) * 1000)
"""


def envelope(event_id: str, subscription: str = "projects/p/subscriptions/ledger-bookings") -> dict:
    data = base64.b64encode(json.dumps({"booking_id": "bk-bench-1"}).encode()).decode()
    return {
        "message": {
            "data": data,
            "attributes": {
                "type": "booking.cancelled",
                "event_id": event_id,
                "source": "bench",
                "correlation_id": event_id,
                "causation_id": "",
            },
            "messageId": "1",
        },
        "subscription": subscription,
    }


def median_ms(command: list[str], runs: int, env: dict | None = None) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        samples.append(float(out.stdout.split()[-1]))
    return statistics.median(samples)


def import_times(runs: int) -> list[list[str]]:
    """Entry-module import, fresh process: cold (the module pulls in functions_framework
    itself, as on a cold instance) and marginal (functions_framework already imported)."""
    shared = str(FUNCTIONS / "shared")
    rows = []
    with tempfile.TemporaryDirectory() as hello_dir:
        Path(hello_dir, "main.py").write_text(HELLO)
        folders = {"hello-world": hello_dir, **{a: str(FUNCTIONS / a) for a in AGENTS}}
        measured = {
            name: (
                median_ms([sys.executable, "-c", IMPORT_PROBE, folder, shared, "cold"], runs),
                median_ms(
                    [sys.executable, "-c", IMPORT_PROBE, folder, shared, "warm-framework"], runs
                ),
            )
            for name, folder in folders.items()
        }
    base_cold, base_marginal = measured["hello-world"]
    for name, (cold, marginal) in measured.items():
        rows.append(
            [
                name,
                f"{cold:.1f}",
                f"{cold / base_cold:.2f}",
                f"{marginal:.1f}",
                f"+{marginal - base_marginal:.1f}",
            ]
        )
    return rows


def first_request(env: dict, runs: int, folder: str) -> tuple[float, float]:
    """Median (framework + app load, first request) ms of ``folder``'s main.py, fresh
    processes, against the emulators."""
    shared = str(FUNCTIONS / "shared")
    loads, firsts = [], []
    for run in range(runs):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                FIRST_REQUEST_PROBE,
                folder,
                shared,
                json.dumps(envelope(f"cold-{run}-{time.time()}")),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        load, first = map(float, out.stdout.split()[-2:])
        loads.append(load)
        firsts.append(first)
    return statistics.median(loads), statistics.median(firsts)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {server.stderr.read()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listening on {port}")


def first_request_after_listening(
    env: dict, runs: int, folder: str, delay: float
) -> tuple[float, float]:
    """Median ms (start until listening, first push request sent ``delay`` s after that)
    of a fresh ``functions-framework`` server for ``folder``."""
    shared = str(FUNCTIONS / "shared")
    command = [str(Path(sys.executable).with_name("functions-framework"))]
    listens, samples = [], []
    for run in range(runs):
        port = _free_port()
        launched = time.perf_counter()
        server = subprocess.Popen(
            [*command, "--target", "handle", "--source", f"{folder}/main.py", "--port", str(port)],
            cwd=folder,
            env={**env, "PYTHONPATH": os.pathsep.join([folder, shared])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_listening(port, server, time.monotonic() + 60)
            listens.append((time.perf_counter() - launched) * 1000)
            time.sleep(delay)
            body = json.dumps(envelope(f"listening-{run}-{time.time()}")).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/",
                data=body,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                assert response.status in (200, 204), response.status
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return statistics.median(listens), statistics.median(samples)


def overhead(messages: int) -> None:
    import flask
    from switchboard_runtime import Agent, Context
    from switchboard_runtime.events import BookingCancelled

    def processed(ctx: Context[BookingCancelled]) -> str:
        return "processed"

    agent = Agent("bench")
    agent.on("booking.cancelled")(processed)
    app = flask.Flask("bench")
    app.add_url_rule("/", "agent", lambda: agent.handle(flask.request), methods=["POST"])
    app.add_url_rule("/hello", "hello", lambda: ("", 204), methods=["POST"])
    client = app.test_client()
    for i in range(10):  # warm up clients and imports
        client.post("/", json=envelope(f"warm-{i}"))

    def timed(path: str, make: object) -> list[float]:
        samples = []
        for i in range(messages):
            body = make(i)  # type: ignore[operator]
            started = time.perf_counter()
            response = client.post(path, json=body)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 204), response.get_data(as_text=True)
        return samples

    stamp = time.time()
    hello = timed("/hello", lambda i: envelope(f"h-{i}"))
    runtime = timed("/", lambda i: envelope(f"m-{stamp}-{i}"))
    duplicate = timed("/", lambda i: envelope(f"m-{stamp}-{i}"))
    for name, samples in (
        ("hello-world", hello),
        ("runtime, new event", runtime),
        ("runtime, duplicate", duplicate),
    ):
        samples.sort()
        print(
            f"{name:<20} p50 {samples[len(samples) // 2]:6.2f} ms  "
            f"p95 {samples[int(len(samples) * 0.95)]:6.2f} ms  "
            f"mean {statistics.fmean(samples):6.2f} ms  (n={len(samples)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--delay", type=float, default=2.0)
    options = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from bench.common import machine, table
    from localdev.emulators import running_emulators

    print(f"machine: {machine()}")
    print(f"\nEntry-module import, fresh processes, median of {options.runs}:")
    print(
        table(
            [
                "entry module",
                "cold import ms",
                "ratio vs hello-world",
                "with framework preloaded ms",
                "vs hello-world",
            ],
            import_times(options.runs),
        )
    )
    with tempfile.TemporaryDirectory() as logs, running_emulators(Path(logs)) as emulators:
        env = {
            **os.environ,
            **emulators.client_env("demo-bench"),
            "SWITCHBOARD_DEAD_LETTERS": "{}",
            "SWITCHBOARD_TIMEOUT_SECONDS": "30",
            "LOG_LEVEL": "WARNING",
        }
        runs = max(3, options.runs // 2)
        with tempfile.TemporaryDirectory() as hello_dir:
            Path(hello_dir, "main.py").write_text(HELLO)
            hello = first_request(env, runs, hello_dir)
        ledger = first_request(env, runs, str(FUNCTIONS / "ledger"))
        print(f"\nFirst request in a fresh process (ledger agent), median of {runs}:")
        print(
            table(
                ["function", "framework + app load ms", "first request ms", "ratio vs hello-world"],
                [
                    ["hello-world", f"{hello[0]:.0f}", f"{hello[1]:.1f}", "1.00"],
                    [
                        "ledger",
                        f"{ledger[0]:.0f}",
                        f"{ledger[1]:.0f}",
                        f"{sum(ledger) / sum(hello):.2f} (load + first request)",
                    ],
                ],
            )
        )
        with tempfile.TemporaryDirectory() as hello_dir:
            Path(hello_dir, "main.py").write_text(HELLO)
            hello_after = first_request_after_listening(env, runs, hello_dir, options.delay)
        ledger_after = first_request_after_listening(
            env, runs, str(FUNCTIONS / "ledger"), options.delay
        )
        print(
            f"\nFirst request {options.delay:g} s after the instance listens "
            f"(functions-framework command, gunicorn), median of {runs}:"
        )
        print(
            table(
                [
                    "function",
                    "start to listening ms",
                    "first request ms",
                    "ratio vs hello-world (listening + first request)",
                ],
                [
                    ["hello-world", f"{hello_after[0]:.0f}", f"{hello_after[1]:.1f}", "1.00"],
                    [
                        "ledger",
                        f"{ledger_after[0]:.0f}",
                        f"{ledger_after[1]:.1f}",
                        f"{sum(ledger_after) / sum(hello_after):.2f}",
                    ],
                ],
            )
        )
        os.environ.update(env)
        print("\nPer-message latency, warm, in-process:")
        overhead(options.messages)


if __name__ == "__main__":
    main()
