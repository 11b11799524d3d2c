"""Turn what a local-platform run left behind into a calibration (pure).

Inputs: the trace (every push and its outcome, with correlation and causation ids), the
documents the Firestore emulator holds, the sandbox's record of third-party requests, the
agents' log lines and bytes, and the gateway's timed requests. Per agent and event type:

- ``duration_ms``: mean push round trip of acked deliveries (the local delivery loop's
  clock: handler time plus loopback HTTP), or the gateway's timed requests;
- ``follow_ups``: events whose ``causation_id`` is the delivered event and whose topic the
  agent publishes to, per processed delivery;
- ``firestore_writes``: documents the emulator holds for the agent per processed delivery:
  its claims in ``processed_events`` (by the claim's ``agent`` and ``type``) and the
  documents of the collections it owns, each to the delivery of that agent that was running
  when the document was created (its ``create_time``; spread over all the agent's
  deliveries when none was). A document
  written twice counts once, so this is a lower bound of write operations;
- ``documents_kept``: the same, for collections without a TTL policy in the render;
- ``third_party_calls``, ``log_lines``, ``log_bytes``, ``cpu_ms``: the agent's totals per
  delivery (CPU from /proc: user + system time of the agent's process tree).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.catalogue.catalogue import Catalogue
from localdev.trace import ACKED, TraceEvent
from tools.cost.calibration import Behaviour, Calibration

CLAIMS = "processed_events"
CREATED = "__create_time__"
"""Key under which the run record keeps each document's creation time (ISO 8601)."""
SLACK_S = 0.5
# Which agent writes each collection (the agents' code: ledger_projection.py, billing,
# notifier, notifier_limits.py, reminders) and which sandbox service each agent calls.
COLLECTION_OWNERS = {
    "ledger": "ledger",
    "bookings": "ledger",
    "payments": "billing",
    "notifications": "notifier",
    "sms_limits": "notifier",
    "reminders": "reminders",
}
SERVICE_CALLERS = {"calendar": "scheduler", "stripe": "billing", "twilio": "notifier"}
GATEWAY = "gateway"


@dataclass(frozen=True)
class RunRecord:
    trace: list[TraceEvent]
    documents: Mapping[str, list[dict[str, Any]]]
    """collection -> its documents' fields, as the emulator holds them after the run."""
    third_party: Mapping[str, int]
    """sandbox service -> requests it received."""
    logs: Mapping[str, tuple[int, int]]
    """agent -> (lines, bytes) it logged during the run."""
    cpu_seconds: Mapping[str, float]
    """agent -> CPU seconds its process tree used during the run."""
    gateway_ms: list[float]
    gateway_requests: int
    ttl_collections: frozenset[str]


def _processed(trace: Iterable[TraceEvent]) -> dict[tuple[str, str], list[TraceEvent]]:
    found: dict[tuple[str, str], list[TraceEvent]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for event in trace:
        if event.outcome != ACKED or not event.agent or not event.event_id:
            continue
        key = (event.agent, event.event_id)
        if key in seen:
            continue
        seen.add(key)
        found[(event.agent, event.event_type)].append(event)
    return found


def _window(event: TraceEvent) -> tuple[float, float]:
    end = dt.datetime.fromisoformat(event.at).timestamp()
    return end - (event.latency_ms or 0.0) / 1000 - SLACK_S, end + SLACK_S


def _creator(doc: Mapping[str, Any], windows: list[tuple[float, float, str]]) -> str | None:
    """The event type of the owner's delivery running when ``doc`` was created."""
    created = doc.get(CREATED)
    if not created:
        return None
    at = dt.datetime.fromisoformat(created).timestamp()
    inside = [(end, t) for start, end, t in windows if start <= at <= end]
    return min(inside)[1] if inside else None


def measure(record: RunRecord, catalogue: Catalogue, measured_at: str, how: str) -> Calibration:  # noqa: PLR0912
    processed = _processed(record.trace)
    per_agent = Counter()
    for (agent, _), events in processed.items():
        per_agent[agent] += len(events)
    per_agent[GATEWAY] += record.gateway_requests
    children: dict[str, list[TraceEvent]] = defaultdict(list)
    first_seen: dict[str, TraceEvent] = {}
    for event in record.trace:
        if event.event_id and event.event_id not in first_seen:
            first_seen[event.event_id] = event
    for event in first_seen.values():
        if event.causation_id:
            children[event.causation_id].append(event)
    claims = Counter(
        (doc.get("agent", ""), doc.get("type", "")) for doc in record.documents.get(CLAIMS, [])
    )
    windows: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for (agent, event_type), events in processed.items():
        windows[agent] += [(*_window(e), event_type) for e in events]
    # documents of an owned collection: to the delivery that created them, else spread
    owned: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    owned_by_type: Counter[tuple[str, str]] = Counter()
    kept_by_type: Counter[tuple[str, str]] = Counter()
    for collection, docs in record.documents.items():
        owner = COLLECTION_OWNERS.get(collection)
        if owner is None:
            continue
        stays = collection not in record.ttl_collections
        for doc in docs:
            creator = _creator(doc, windows[owner])
            if creator is None:
                owned[owner] += 1
                kept[owner] += stays
            else:
                owned_by_type[(owner, creator)] += 1
                kept_by_type[(owner, creator)] += stays
    calls = Counter()
    for service, count in record.third_party.items():
        calls[SERVICE_CALLERS.get(service, service)] += count
    agents: dict[str, dict[str, Behaviour]] = defaultdict(dict)
    for (agent, event_type), events in sorted(processed.items()):
        n = len(events)
        topics = set(catalogue.agents[agent].publishes) if agent in catalogue.agents else set()
        follow = Counter()
        for event in events:
            for child in children.get(event.event_id, []):
                if catalogue.topic_of_event_type(child.event_type) in topics:
                    follow[child.event_type] += 1
        share = 1 / per_agent[agent]
        lines, size = record.logs.get(agent, (0, 0))
        latencies = [e.latency_ms for e in events if e.latency_ms is not None]
        agents[agent][event_type] = Behaviour(
            deliveries=n,
            follow_ups={t: round(c / n, 4) for t, c in sorted(follow.items())},
            firestore_writes=round(
                (claims[(agent, event_type)] + owned_by_type[(agent, event_type)]) / n
                + owned[agent] * share,
                4,
            ),
            documents_kept=round(kept_by_type[(agent, event_type)] / n + kept[agent] * share, 4),
            third_party_calls=round(calls[agent] * share, 4),
            log_lines=round(lines * share, 2),
            log_bytes=round(size * share, 1),
            duration_ms=round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
            cpu_ms=round(record.cpu_seconds.get(agent, 0.0) * 1000 * share, 1),
        )
    if record.gateway_requests:
        lines, size = record.logs.get(GATEWAY, (0, 0))
        share = 1 / record.gateway_requests
        mean = sum(record.gateway_ms) / len(record.gateway_ms) if record.gateway_ms else 0.0
        agents[GATEWAY]["*"] = Behaviour(
            deliveries=record.gateway_requests,
            log_lines=round(lines * share, 2),
            log_bytes=round(size * share, 1),
            duration_ms=round(mean, 1),
            cpu_ms=round(record.cpu_seconds.get(GATEWAY, 0.0) * 1000 * share, 1),
        )
    return Calibration(
        format="switchboard-calibration/1", measured_at=measured_at, how=how, agents=dict(agents)
    )
