"""One event's story as a trace viewer draws it: a lane per agent (and per outside
publisher: Cloud Scheduler, the console, a scenario), a bar per delivery pushed to an
agent (from the push to its answer: its latency, coloured by outcome), an arrow from the
delivery that published a follow-up to each delivery of that follow-up, and marks for
publishes, Firestore writes, third-party calls and dead letters on the lane of the agent
that made them. Pure: built from :func:`localdev.console.story.build_story`'s answer and
the catalogue; the page only scales it to pixels.

Times are the machine's own clock (the platform, the emulators and the sandbox run on one
host). A delivery's trace record is written when the agent answered, so its bar spans
``at - latency_ms .. at``. A filtered-out delivery never reached the agent (in the cloud,
Pub/Sub does not push it at all): it stays in the list, not in the picture.

Which lane a mark goes on:
- a publish: the message's ``source`` attribute (the publishing agent, or who published
  it from outside);
- a Firestore document: a claim ``processed_events/<agent>:<event>`` names its agent; a
  document committed at the same instant as a claim belongs to that claim's agent; else
  the Firestore agent whose delivery was running when it was written (the nearest one);
- a third-party call: among the agents holding that third party's credentials
  (``library/topology``'s table of secret prefixes), the one whose delivery was running;
- a dead letter: the agent of the subscription it came from.
A document shows its last write only (Firestore keeps no history).

Idle stretches longer than ``GAP_MS`` (a retry's backoff, a reminder tick minutes later)
are cut to ``GAP_KEPT_MS`` and marked with the time left out, so a story that spans
minutes still shows each delivery's width.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from infra.catalogue import Catalogue
from library.topology.graph import THIRD_PARTIES

GAP_MS = 1_500.0
GAP_KEPT_MS = 250.0
MAX_BARS = 2_000
MAX_MARKS = 2_000
MAX_TICKS = 60
CLAIMS = "processed_events"
UNATTRIBUTED = "(unattributed)"
TICK_STEPS_MS = (10, 20, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000)
TARGET_TICKS = 10


def _ms(value: Any) -> float | None:
    """An ISO 8601 time as epoch milliseconds (None when missing or unreadable)."""
    try:
        return dt.datetime.fromisoformat(str(value)).timestamp() * 1000.0
    except (TypeError, ValueError):
        return None


@dataclass
class _Bar:
    id: str
    lane: str
    entry: int
    event_id: str
    event_type: str
    start: float
    end: float
    item: dict[str, Any]
    row: int = 0


@dataclass
class _Mark:
    id: str
    kind: str
    lane: str
    entry: int
    event_id: str
    at: float
    label: str


class _Gaps:
    """Cuts idle stretches: real milliseconds -> drawn milliseconds from the start."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        spans = sorted(spans)
        self.origin = spans[0][0] if spans else 0.0
        self.cuts: list[tuple[float, float, float]] = []  # (from, to, removed)
        reach = self.origin
        for start, end in spans:
            if start - reach > GAP_MS:
                self.cuts.append((reach, start, start - reach - GAP_KEPT_MS))
            reach = max(reach, end)
        self.end = reach

    def x(self, moment: float) -> float:
        drawn = moment - self.origin
        for start, end, removed in self.cuts:
            if moment >= end:
                drawn -= removed
            elif moment > start:
                drawn -= removed * (moment - start) / (end - start)
        return round(drawn, 3)

    def clusters(self) -> list[tuple[float, float]]:
        """The stretches kept whole, in real milliseconds."""
        edges = [self.origin]
        for start, end, _removed in self.cuts:
            edges += [start, end]
        edges.append(self.end)
        return list(zip(edges[::2], edges[1::2], strict=True))


def _tick_step(span: float) -> int:
    for step in TICK_STEPS_MS:
        if span / step <= TARGET_TICKS:
            return step
    return TICK_STEPS_MS[-1]


def _seconds(ms: float) -> str:
    return f"+{ms / 1000:.2f} s" if ms < 10_000 else f"+{ms / 1000:.1f} s"


def _service_callers(catalogue: Catalogue, service: str) -> list[str]:
    """The agents holding a credential of a sandbox service (``stripe``, ``twilio``,
    ``calendar``): the secrets whose prefix ``library/topology`` maps to that API."""
    prefixes = [p for p, api in THIRD_PARTIES.items() if service and service in api.lower()]
    return [
        name
        for name, agent in catalogue.agents.items()
        if any(s.startswith(p) for s in agent.secrets for p in prefixes)
    ]


def _nearest(bars: list[_Bar], moment: float) -> _Bar | None:
    """The bar running at ``moment`` (the latest started, if several), else the closest."""
    if not bars:
        return None
    running = [b for b in bars if b.start <= moment <= b.end]
    if running:
        return max(running, key=lambda b: (b.start, b.id))
    return min(bars, key=lambda b: (min(abs(b.start - moment), abs(b.end - moment)), b.id))


def _pack(bars: list[_Bar]) -> int:
    """Overlapping bars of one lane on rows of their own; returns the lane's row count."""
    ends: list[float] = []
    for bar in sorted(bars, key=lambda b: (b.start, b.end, b.id)):
        for row, end in enumerate(ends):
            if end <= bar.start:
                bar.row, ends[row] = row, bar.end
                break
        else:
            bar.row = len(ends)
            ends.append(bar.end)
    return max(1, len(ends))


def _bars(timeline: list[dict[str, Any]]) -> list[_Bar]:
    bars = []
    for index, entry in enumerate(timeline):
        item = entry["item"]
        end, latency = _ms(entry.get("at")), item.get("latency_ms")
        if entry["kind"] != "delivery" or end is None or not isinstance(latency, int | float):
            continue
        bars.append(
            _Bar(
                id=f"b{index}",
                lane=str(item.get("agent", "")) or UNATTRIBUTED,
                entry=index,
                event_id=str(item.get("event_id", "")),
                event_type=str(item.get("event_type", "")),
                start=end - max(0.0, float(latency)),
                end=end,
                item=item,
            )
        )
    return bars[:MAX_BARS]


def _document_lane(
    item: dict[str, Any], at: float, claims_at: dict[float, str], bars: list[_Bar], writers: set
) -> str:
    if item.get("collection") == CLAIMS and ":" in str(item.get("id", "")):
        return str(item["id"]).split(":", 1)[0]
    if at in claims_at:
        return claims_at[at]
    found = _nearest([b for b in bars if b.lane in writers], at)
    return found.lane if found else UNATTRIBUTED


def _marks(timeline: list[dict[str, Any]], bars: list[_Bar], catalogue: Catalogue) -> list[_Mark]:
    agent_of = {c.subscription_id: c.agent.name for c in catalogue.consumers()}
    writers = {name for name, agent in catalogue.agents.items() if agent.firestore}
    claims_at = {
        at: str(e["item"]["id"]).split(":", 1)[0]
        for e in timeline
        if e["kind"] == "document"
        and e["item"].get("collection") == CLAIMS
        and (at := _ms(e.get("at"))) is not None
    }
    marks = []
    for index, entry in enumerate(timeline):
        kind, item, at = entry["kind"], entry["item"], _ms(entry.get("at"))
        if at is None or kind == "delivery":
            continue
        if kind == "published":
            lane = str(item.get("attributes", {}).get("source", "")) or UNATTRIBUTED
            label = f"{item.get('type', '')} published on {item.get('topic', '')}"
            event_id = str(item.get("event_id", ""))
        elif kind == "document":
            lane = _document_lane(item, at, claims_at, bars, writers)
            label, event_id = f"Firestore {item.get('path', '')}", ""
        elif kind == "call":
            callers = set(_service_callers(catalogue, str(item.get("service", ""))))
            found = _nearest([b for b in bars if b.lane in callers], at)
            lane = found.lane if found else (sorted(callers) or [UNATTRIBUTED])[0]
            label = f"{item.get('service')} {item.get('method')} {item.get('path')}"
            label += f" -> {item.get('status') if item.get('status') is not None else 'no answer'}"
            event_id = ""
        else:  # dead-letter
            lane = agent_of.get(str(item.get("source_subscription", "")), UNATTRIBUTED)
            label = f"dead letter: {item.get('reason', '')}"
            event_id = str(item.get("event_id", ""))
        marks.append(_Mark(f"m{index}", kind, lane, index, event_id, at, label))
    return marks[:MAX_MARKS]


def _arrows(bars: list[_Bar], marks: list[_Mark], causes: dict[str, str]) -> list[dict]:
    """Each delivery's arrow: from the delivery whose handling published its event (the
    follow-up's cause), else from the publish mark; one per publish and lane (a retry's
    later attempts sit on the same lane after the first)."""
    publishes: dict[str, list[_Mark]] = {}
    for mark in marks:
        if mark.kind == "published":
            publishes.setdefault(mark.event_id, []).append(mark)
    arrows, seen = [], set()
    for bar in sorted(bars, key=lambda b: (b.start, b.id)):
        before = [m for m in publishes.get(bar.event_id, []) if m.at <= bar.start + 1.0]
        publish = max(before, key=lambda m: m.at) if before else None
        if publish is None or (publish.id, bar.lane) in seen:
            continue
        seen.add((publish.id, bar.lane))
        cause = causes.get(bar.event_id, "")
        candidates = [b for b in bars if b.event_id == cause and b.lane == publish.lane and cause]
        origin = _nearest(candidates, publish.at)
        # The follow-up was published during its cause's handling; the emulator's publish
        # time and the delivery loop's clock can disagree by a little (more on a loaded
        # machine), so the arrow leaves the causing bar at the nearest moment inside it.
        leaves = min(max(publish.at, origin.start), origin.end) if origin else publish.at
        arrows.append(
            {
                "from": origin.id if origin else publish.id,
                "to": bar.id,
                "kind": "follow-up" if origin else "publish",
                "at": leaves,
                "from_event": origin.event_id if origin else bar.event_id,
                "to_event": bar.event_id,
                "from_lane": publish.lane,
                "to_lane": bar.lane,
            }
        )
    return arrows


def story_picture(story: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """Lanes, bars, marks, arrows, axis ticks and cut gaps, in drawn milliseconds."""
    timeline = story["timeline"]
    bars = _bars(timeline)
    marks = _marks(timeline, bars, catalogue)
    causes = {e["event_id"]: e.get("causation_id") or "" for e in story.get("events", [])}
    arrows = _arrows(bars, marks, causes)
    gaps = _Gaps([(b.start, b.end) for b in bars] + [(m.at, m.at) for m in marks])
    first: dict[str, float] = {}
    for lane, moment in [(b.lane, b.start) for b in bars] + [(m.lane, m.at) for m in marks]:
        first[lane] = min(first.get(lane, moment), moment)
    order = sorted(first, key=lambda lane: (first[lane], lane))
    rows = {lane: _pack([b for b in bars if b.lane == lane]) for lane in order}
    agents = set(catalogue.agents)
    ticks: list[dict[str, Any]] = []
    step = _tick_step(gaps.x(gaps.end))
    for start, end in gaps.clusters():
        moment = start - gaps.origin
        moment = step * -(-moment // step)
        while moment + gaps.origin <= end and len(ticks) < MAX_TICKS:
            ticks.append({"x": gaps.x(moment + gaps.origin), "label": _seconds(moment)})
            moment += step
    return {
        "span": gaps.x(gaps.end),
        "origin": dt.datetime.fromtimestamp(gaps.origin / 1000, dt.UTC).isoformat()
        if bars or marks
        else None,
        "lanes": [
            {"name": lane, "kind": "agent" if lane in agents else "outside", "rows": rows[lane]}
            for lane in order
        ],
        "bars": [
            {
                "id": b.id,
                "lane": b.lane,
                "row": b.row,
                "entry": b.entry,
                "event_id": b.event_id,
                "event_type": b.event_type,
                "outcome": b.item.get("outcome", ""),
                "agent_outcome": b.item.get("agent_outcome", ""),
                "attempt": b.item.get("attempt"),
                "status": b.item.get("status"),
                "latency_ms": round(b.end - b.start, 1),
                "x0": gaps.x(b.start),
                "x1": gaps.x(b.end),
            }
            for b in bars
        ],
        "marks": [
            {
                "id": m.id,
                "kind": m.kind,
                "lane": m.lane,
                "entry": m.entry,
                "event_id": m.event_id,
                "label": m.label,
                "x": gaps.x(m.at),
            }
            for m in marks
        ],
        "arrows": [{**a, "at": gaps.x(a["at"])} for a in arrows],
        "gaps": [
            {"x": gaps.x(start) + GAP_KEPT_MS / 2, "hidden_ms": round(removed, 1)}
            for start, _end, removed in gaps.cuts
        ],
        "ticks": ticks,
    }
