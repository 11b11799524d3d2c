"""Local platform throughput and latency for a burst of events.

Publishes N ``sms.received`` events to the ``inbound`` topic of a running local platform
(real catalogue, real agents; only the ledger consumes ``inbound``), and reads the
platform's trace until every one is acked. Baseline, same run, same emulator: the
official client publishing N messages to a plain pull subscription and pulling/acking
them with no agent at all, which is what the emulator alone sustains.

    .venv/bin/python -m bench.platform_burst [--events 10000]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, machine, percentile, table
from localdev.trace import ACKED, RETRY, RUNTIME_DEAD_LETTERED

DEADLINE_SECONDS = 1800


def start_platform(state_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    log = (state_dir / "platform.out").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localdev",
            "up",
            "--base-port",
            "0",
            "--state-dir",
            str(state_dir),
            "--log-level",
            "WARNING",
            "--no-sandbox",
        ],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    state_file = state_dir / "platform.json"
    deadline = time.monotonic() + 120
    while not state_file.is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit((state_dir / "platform.out").read_text())
        time.sleep(0.2)
    return process, json.loads(state_file.read_text())


def publish_burst(publisher: Any, topic: str, count: int, run: str) -> dict[str, float]:
    """Publish ``count`` events; returns event id -> publish wall time."""
    sent: dict[str, float] = {}
    futures = []
    for index in range(count):
        event_id = f"burst-{run}-{index}"
        data = {
            # Twilio's shape (SM + 32 hex), or the runtime refuses the event as invalid
            "message_sid": f"SM{run}{index:024x}",
            "from_number": "+447700900123",
            "to_number": "+447700900000",
            "body": f"burst message {index}",
        }
        sent[event_id] = time.time()
        futures.append(
            publisher.publish(
                topic,
                json.dumps(data).encode(),
                type="sms.received",
                event_id=event_id,
                source="bench",
                correlation_id=event_id,
                causation_id="",
                schema_version="1",
            )
        )
    for future in futures:
        future.result(timeout=120)
    return sent


def acked_times(trace_file: Path, wanted: set[str]) -> dict[str, tuple[float, int]]:
    """event id -> (ack wall time, deliveries) for the ledger's acks in the trace, counting
    only events the ledger handled (an event its runtime refused and dead-lettered is acked
    too, but measures the refusal, not the delivery of work)."""
    found: dict[str, tuple[float, int]] = {}
    deliveries: dict[str, int] = {}
    if not trace_file.is_file():
        return found
    for line in trace_file.read_text().splitlines():
        event = json.loads(line)
        event_id = event.get("event_id")
        if event_id not in wanted or event.get("agent") != "ledger":
            continue
        if event.get("outcome") in (ACKED, RETRY):
            deliveries[event_id] = deliveries.get(event_id, 0) + 1
        if event.get("outcome") == ACKED and event.get("agent_outcome") != RUNTIME_DEAD_LETTERED:
            moment = datetime.fromisoformat(event["at"]).timestamp()
            found[event_id] = (moment, deliveries[event_id])
    return found


def platform_run(count: int) -> dict[str, float]:
    from google.cloud import pubsub_v1

    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        process, state = start_platform(state_dir)
        try:
            import os

            os.environ["PUBSUB_EMULATOR_HOST"] = state["pubsub"]["emulator_host"]
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(state["project"], "inbound")
            run = uuid.uuid4().hex[:8]
            started = time.time()
            sent = publish_burst(publisher, topic, count, run)
            wanted = set(sent)
            trace_file = Path(state["trace"])
            deadline = time.monotonic() + DEADLINE_SECONDS
            acked: dict[str, tuple[float, int]] = {}
            while len(acked) < count and time.monotonic() < deadline:
                time.sleep(2)
                acked = acked_times(trace_file, wanted)
            finished = max((t for t, _ in acked.values()), default=time.time())
            latencies = [(acked[e][0] - sent[e]) * 1000 for e in acked]
            return {
                "events": count,
                "acked": len(acked),
                "redelivered": sum(1 for _, n in acked.values() if n > 1),
                "seconds": finished - started,
                "per_second": len(acked) / (finished - started),
                "p50": percentile(latencies, 0.50),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
            }
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def emulator_baseline(count: int) -> dict[str, float]:
    """The same burst through the bare emulator: publish, then pull and ack everything."""
    import os

    from google.cloud import pubsub_v1

    from localdev.emulators import running_emulators

    with tempfile.TemporaryDirectory() as tmp, running_emulators(Path(tmp)) as emulators:
        os.environ["PUBSUB_EMULATOR_HOST"] = emulators.pubsub.address
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        topic = publisher.topic_path("bench-baseline", "inbound")
        subscription = subscriber.subscription_path("bench-baseline", "baseline")
        publisher.create_topic(name=topic)
        subscriber.create_subscription(request={"name": subscription, "topic": topic})
        started = time.time()
        sent = publish_burst(publisher, topic, count, "base")
        latencies, received = [], 0
        while received < count:
            response = subscriber.pull(
                request={"subscription": subscription, "max_messages": 500}, timeout=30
            )
            now = time.time()
            ids = [r.ack_id for r in response.received_messages]
            for r in response.received_messages:
                latencies.append((now - sent[r.message.attributes["event_id"]]) * 1000)
            if ids:
                subscriber.acknowledge(request={"subscription": subscription, "ack_ids": ids})
            received += len(ids)
        finished = time.time()
        return {
            "events": count,
            "acked": received,
            "redelivered": 0,
            "seconds": finished - started,
            "per_second": received / (finished - started),
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args(argv)
    baseline = emulator_baseline(args.events)
    platform = platform_run(args.events)
    rows = []
    for name, result in (
        ("emulator alone (baseline)", baseline),
        ("local platform -> ledger agent", platform),
    ):
        rows.append(
            [
                name,
                f"{result['acked']}/{result['events']}",
                result["redelivered"],
                f"{result['seconds']:.1f}",
                f"{result['per_second']:.0f}",
                f"{result['p50']:.0f}",
                f"{result['p95']:.0f}",
                f"{result['p99']:.0f}",
                f"{result['per_second'] / baseline['per_second']:.3f}",
            ]
        )
    print(f"machine: {machine()}")
    print(
        table(
            [
                "path",
                "acked",
                "redelivered",
                "seconds",
                "events/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "throughput ratio",
            ],
            rows,
        )
    )
    return 0 if platform["acked"] == platform["events"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
