"""One event's story: every event it caused (through causation ids, and every event of
its correlation), each delivery, dead letter, Firestore document and third-party call, in
time order. Pure: the server gathers the inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localdev.console.sandbox_view import mentions
from localdev.console.tap import TappedMessage

MAX_EVENTS = 500
MAX_CAUSATION_DEPTH = 50
KEY_FIELDS = ("reference", "sid")


@dataclass(frozen=True)
class Scope:
    """The event ids a story covers, the correlation ids they share, the booking ids
    their data names."""

    event_ids: set[str]
    correlation_ids: set[str]
    booking_ids: set[str]


def _booking_id(message: TappedMessage) -> str:
    data = message.to_json()["data"]
    value = data.get("booking_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def scope(seed: str, messages: list[TappedMessage], trace: list[dict[str, Any]]) -> Scope:
    """What ``seed`` (an event, message or correlation id) reaches: its correlation's
    events, every event their causation ids lead to, every event about the same booking
    (with the correlations that concern that booking only, e.g. its payment webhook), and
    the direct cause of each (a tick), without that cause's other effects."""
    hits_m = [m for m in messages if seed in (m.event_id, m.message_id, _correlation(m))]
    hits_t = [r for r in trace if seed in (r.get("event_id"), r.get("message_id"))]
    correlations = {_correlation(m) for m in hits_m} | {
        str(r.get("correlation_id", "")) for r in hits_t
    }
    correlations.discard("")
    if not correlations and any(r.get("correlation_id") == seed for r in trace):
        correlations = {seed}
    events = {m.event_id for m in hits_m} | {str(r.get("event_id", "")) for r in hits_t}
    events |= {str(r.get("event_id", "")) for r in trace if r.get("correlation_id") in correlations}
    bookings_of: dict[str, set[str]] = {}
    for message in messages:
        bookings_of.setdefault(_correlation(message), set()).add(_booking_id(message))
    for _ in range(MAX_CAUSATION_DEPTH):
        before = len(events) + len(correlations)
        events |= {m.event_id for m in messages if _correlation(m) in correlations}
        bookings = {b for m in messages if m.event_id in events and (b := _booking_id(m))}
        events |= {m.event_id for m in messages if _booking_id(m) in bookings}
        correlations |= {
            c for c, named in bookings_of.items() if c and named - {""} and named - {""} <= bookings
        }
        events |= {m.event_id for m in messages if m.attributes.get("causation_id") in events}
        if len(events) + len(correlations) == before or len(events) >= MAX_EVENTS:
            break
    events |= {
        m.event_id
        for m in messages
        if m.event_id
        in {n.attributes.get("causation_id") for n in messages if n.event_id in events}
    }
    events.discard("")
    chosen = set(sorted(events)[:MAX_EVENTS])
    bookings = {b for m in messages if m.event_id in chosen and (b := _booking_id(m))}
    return Scope(chosen, correlations, bookings)


def _correlation(message: TappedMessage) -> str:
    return message.attributes.get("correlation_id", "")


def document_keys(documents: Iterable[dict[str, Any]]) -> set[str]:
    """Ids the documents name (``*_id`` fields, references, message sids) that a
    third-party call may carry."""
    keys = set()
    for document in documents:
        for name, value in document["fields"].items():
            if isinstance(value, str) and (name.endswith("_id") or name in KEY_FIELDS):
                keys.add(value)
    return keys


def _epoch(value: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC).isoformat()
    except (TypeError, ValueError):
        return ""


def _sort_key(item: dict[str, Any]) -> tuple[float, int]:
    try:
        moment = dt.datetime.fromisoformat(item["at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        moment = 0.0
    return moment, item.get("order", 0)


def build_story(  # noqa: PLR0917 - one argument per source the story joins
    seed: str,
    found: Scope,
    messages: list[TappedMessage],
    trace: list[dict[str, Any]],
    dead_letters: list[dict[str, Any]],
    documents: list[dict[str, Any]],
    calls: list[dict[str, Any]],
) -> dict[str, Any]:
    """The timeline and a summary per event."""
    ids = found.event_ids
    published = [m.to_json() for m in messages if m.event_id in ids]
    deliveries = [r for r in trace if r.get("event_id") in ids]
    letters = [d for d in dead_letters if d.get("event_id") in ids]
    keys = ids | found.booking_ids | document_keys(documents)
    related_calls = [c for c in calls if mentions(c, keys)]
    timeline: list[dict[str, Any]] = []

    def add(kind: str, at: str, item: dict[str, Any], order: int) -> None:
        timeline.append({"kind": kind, "at": at, "order": order, "item": item})

    for message in published:
        add("published", message["publish_time"], message, 0)
    for record in deliveries:
        add("delivery", str(record.get("at", "")), record, 1)
    for letter in letters:
        add("dead-letter", letter["publish_time"], letter, 2)
    for document in documents:
        add("document", document.get("update_time") or "", document, 3)
    for call in related_calls:
        add("call", _epoch(call.get("time")), call, 4)
    timeline.sort(key=_sort_key)
    events: dict[str, dict[str, Any]] = {}

    def by_id(event_id: str) -> dict[str, Any]:
        blank = {"event_id": event_id, "type": "", "causation_id": "", "deliveries": []}
        return events.setdefault(event_id, blank)

    for message in published:
        entry = by_id(message["event_id"])
        entry.update(type=message["type"], causation_id=message["causation_id"])
        entry["topic"] = message["topic"]
    for record in deliveries:
        entry = by_id(str(record["event_id"]))
        entry["type"] = entry["type"] or record.get("event_type", "")
        entry["deliveries"].append(
            {k: record.get(k) for k in ("agent", "outcome", "attempt", "status", "latency_ms")}
        )
    return {
        "seed": seed,
        "event_ids": sorted(ids),
        "correlation_ids": sorted(found.correlation_ids),
        "booking_ids": sorted(found.booking_ids),
        "events": sorted(events.values(), key=lambda e: e["event_id"]),
        "timeline": timeline,
        "counts": {
            "events": len(ids),
            "deliveries": len(deliveries),
            "dead_letters": len(letters),
            "documents": len(documents),
            "calls": len(related_calls),
        },
    }
