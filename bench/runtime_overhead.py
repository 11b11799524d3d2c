"""Runtime overhead: messages/second through the full agent runtime vs a bare handler.

Both handlers do the same useful work, one Firestore document write per message, on the
same Firestore emulator, called through the same Flask test client, one message at a time:

- baseline: a bare handler that decodes the push body and writes the document;
- runtime, same work: a Firestore-only ``switchboard_runtime.Agent`` route
  (``effects="firestore"``) that stages the same document on ``ctx.writes``, with
  everything the runtime adds (parse the envelope, validate the schema, log, and commit
  the write with the event's claim in one batch);
- runtime, no-op route: the runtime alone (parse, validate, claim, log), a Firestore-only
  route with nothing to write: the claim is its one commit;
- runtime, external no-op: a default route (``effects="external"``, what a handler that
  calls a third party gets): claim with ``create()``, run, complete (one conditional
  batch), with nothing in between.

    .venv/bin/python -m bench.runtime_overhead [--messages 300] [--rounds 5] [--warmup 1000]

Every route first handles ``--warmup`` messages (the emulator's JVM warms up over the
first thousand or so writes). Then each round sends ``--messages`` messages to every
route, interleaved one by one: each cycle sends one message to each route, in an order
shuffled per cycle (fixed seed), and each route's time is the sum of its own requests.
So a drift of the machine's speed (another process, the JVM's compiler, a GC) hits every
route alike, which back-to-back blocks of one route at a time did not: on the 2-core
machine those gave one route's rate 20-30% apart from one run to the next. A route's rate
is the median over rounds; a ratio is that median over the bare handler's.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, table

PROJECT = "bench-runtime"
PATHS = ["/bare", "/runtime", "/noop", "/external"]
DATA = {"booking_id": "bk-bench-0001", "reason": "bench"}


def envelope(event_id: str) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(json.dumps(DATA).encode()).decode(),
            "attributes": {
                "type": "booking.cancelled",
                "event_id": event_id,
                "source": "bench",
                "correlation_id": event_id,
                "causation_id": "",
            },
            "messageId": event_id,
            "publishTime": "2026-11-27T00:00:00Z",
        },
        "subscription": f"projects/{PROJECT}/subscriptions/bench-on-bookings",
        "deliveryAttempt": 1,
    }


def build_app() -> Any:
    import flask
    from google.cloud import firestore
    from switchboard_runtime import Agent, Context
    from switchboard_runtime.events import BookingCancelled

    db = firestore.Client(project=PROJECT)
    agent = Agent("bench")

    def processed(ctx: Context[BookingCancelled]) -> str:
        return "processed"

    noop = Agent("bench-noop")
    noop.on("booking.cancelled", effects="firestore")(processed)
    external = Agent("bench-external")
    external.on("booking.cancelled")(processed)

    @agent.on("booking.cancelled", effects="firestore")
    def cancelled(ctx: Context[BookingCancelled]) -> str:
        ctx.writes.set(
            ctx.firestore().collection("bench_runtime").document(ctx.event.event_id),
            {"booking_id": ctx.data.booking_id},
        )
        return "processed"

    def bare() -> tuple[str, int]:
        body = flask.request.get_json()
        message = body["message"]
        data = json.loads(base64.b64decode(message["data"]))
        event_id = message["attributes"]["event_id"]
        db.collection("bench_bare").document(event_id).set({"booking_id": data["booking_id"]})
        return "", 204

    app = flask.Flask("bench")
    app.add_url_rule("/runtime", "runtime", lambda: agent.handle(flask.request), methods=["POST"])
    app.add_url_rule("/noop", "noop", lambda: noop.handle(flask.request), methods=["POST"])
    app.add_url_rule(
        "/external", "external", lambda: external.handle(flask.request), methods=["POST"]
    )
    app.add_url_rule("/bare", "bare", bare, methods=["POST"])
    return app


def send(client: Any, path: str, event_id: str) -> float:
    """Seconds one push delivery of a new event took through ``path``."""
    body = envelope(event_id)
    started = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code not in (200, 204):
        raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed


def interleaved_rates(
    client: Any, paths: list[str], messages: int, prefix: str, order: random.Random
) -> dict[str, float]:
    """Messages/s of each route over ``messages`` cycles of one message per route."""
    spent = dict.fromkeys(paths, 0.0)
    for index in range(messages):
        cycle = paths[:]
        order.shuffle(cycle)
        for path in cycle:
            spent[path] += send(client, path, f"{prefix}{path.replace('/', '-')}-{index}")
    return {path: messages / seconds for path, seconds in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1000, help="messages per route first")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        help="the runtime's LOG_LEVEL: WARNING (default) skips the INFO line per request; "
        "INFO writes it, as production does (to this process's stdout, here /dev/null)",
    )
    args = parser.parse_args(argv)
    from localdev.emulators import running_emulators

    with (
        tempfile.TemporaryDirectory() as logs,
        running_emulators(Path(logs)) as emulators,
        open(os.devnull, "w") as request_log,
        contextlib.redirect_stdout(request_log),  # the runtime's log lines, at INFO
    ):
        os.environ.update(emulators.client_env(PROJECT))
        os.environ.update(
            {
                "SWITCHBOARD_AGENT": "bench",
                "SWITCHBOARD_TIMEOUT_SECONDS": "30",
                "SWITCHBOARD_DEAD_LETTERS": "{}",
                "LOG_LEVEL": args.log_level,
            }
        )
        client = build_app().test_client()
        order = random.Random(13)
        # warm the emulator's JIT and every client before measuring
        interleaved_rates(client, PATHS, args.warmup, "warm", order)
        rates: dict[str, list[float]] = {path: [] for path in PATHS}
        for round_index in range(args.rounds):
            measured = interleaved_rates(client, PATHS, args.messages, f"r{round_index}", order)
            for path, value in measured.items():
                rates[path].append(value)
    bare, runtime, noop, external = (rates[path] for path in PATHS)
    bare_rate, runtime_rate = statistics.median(bare), statistics.median(runtime)
    noop_rate, external_rate = statistics.median(noop), statistics.median(external)
    print(f"machine: {machine()}; LOG_LEVEL={args.log_level}")
    print(
        table(
            ["handler", "messages/s (median of rounds)", "rounds", "ratio vs bare"],
            [
                [
                    "bare: one Firestore write",
                    f"{bare_rate:.0f}",
                    " ".join(f"{r:.0f}" for r in bare),
                    "1.00",
                ],
                [
                    "runtime, no-op route: parse, validate, log, the claim's one commit",
                    f"{noop_rate:.0f}",
                    " ".join(f"{r:.0f}" for r in noop),
                    f"{noop_rate / bare_rate:.2f}",
                ],
                [
                    "runtime, same work: the write committed with the claim",
                    f"{runtime_rate:.0f}",
                    " ".join(f"{r:.0f}" for r in runtime),
                    f"{runtime_rate / bare_rate:.2f}",
                ],
                [
                    "runtime, external no-op: claim create(), complete batch",
                    f"{external_rate:.0f}",
                    " ".join(f"{r:.0f}" for r in external),
                    f"{external_rate / bare_rate:.2f}",
                ],
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
