"""What the story's picture must show, derived from the platform's trace and the catalogue
(never from the picture's own layout), and the drawn page read back as numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from infra.catalogue import Catalogue
from localdev.trace import ACKED, TraceEvent

READ_PICTURE = """() => {
    const number = (node, name) => Number(node.getAttribute(name));
    const lanes = [...document.querySelectorAll('#story-picture g.lane')].map((g) => {
        const band = g.querySelector('rect.lane-band');
        return {name: g.dataset.lane, y: number(band, 'y'), height: number(band, 'height')};
    });
    const bars = [...document.querySelectorAll('#story-picture g.bar')].map((g) => {
        const r = g.querySelector('rect');
        return {id: g.dataset.id, lane: g.dataset.lane, event: g.dataset.event,
                outcome: g.dataset.outcome, latency: Number(g.dataset.latency),
                x: number(r, 'x'), width: number(r, 'width'), y: number(r, 'y'),
                height: number(r, 'height')};
    });
    const arrows = [...document.querySelectorAll('#story-picture path.arrow')].map((p) => {
        const start = p.getPointAtLength(0);
        const end = p.getPointAtLength(p.getTotalLength());
        return {from: p.dataset.from, to: p.dataset.to, from_event: p.dataset.fromEvent,
                to_event: p.dataset.toEvent, from_lane: p.dataset.fromLane,
                to_lane: p.dataset.toLane, kind: p.getAttribute('class'),
                x0: start.x, y0: start.y, x1: end.x, y1: end.y};
    });
    return {lanes, bars, arrows};
}"""


@dataclass(frozen=True)
class Expected:
    bars: Counter[tuple[str, str, str]]
    """(agent, event id, outcome) of every delivery pushed to an agent, counted."""
    follow_ups: set[tuple[str, str, str, str]]
    """(cause event, publishing agent, follow-up event, receiving agent)."""


def publisher(
    catalogue: Catalogue, trace: list[TraceEvent], cause: str, follow_up_type: str
) -> str:
    """The one agent that acked ``cause`` and may publish to the topic carrying the
    follow-up's type (the catalogue's ``publishes``)."""
    topics = {n for n, topic in catalogue.topics.items() if follow_up_type in topic.event_types}
    handled = {e.agent for e in trace if e.event_id == cause and e.outcome == ACKED}
    found = sorted(a for a in handled if topics & set(catalogue.agents[a].publishes))
    assert len(found) == 1, (cause, follow_up_type, found)
    return found[0]


def expected(catalogue: Catalogue, trace: list[TraceEvent], event_ids: set[str]) -> Expected:
    pushed = [e for e in trace if e.event_id in event_ids and e.latency_ms is not None]
    bars = Counter((e.agent, e.event_id, e.outcome) for e in pushed)
    follow_ups = set()
    for event in pushed:
        cause = event.causation_id
        if cause and cause in event_ids and cause != event.event_id:
            source = publisher(catalogue, trace, cause, event.event_type)
            follow_ups.add((cause, source, event.event_id, event.agent))
    return Expected(bars, follow_ups)


def inside(x: float, y: float, bar: dict[str, Any], slack: float = 1.0) -> bool:
    return (
        bar["x"] - slack <= x <= bar["x"] + bar["width"] + slack
        and bar["y"] - slack <= y <= bar["y"] + bar["height"] + slack
    )
