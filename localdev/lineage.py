"""What one event caused on the local platform: its deliveries and its follow-ups'.

An agent's follow-up event carries the causing event's id as ``causation_id`` (the
contract), and the platform's trace records both ids of every delivery, so the events an
event caused are found by following causation ids through ``trace.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from localdev.trace import TraceEvent

MIN_PREFIX = 8
"""An id may be given by its first 8 characters, as the delivery log prints it."""
MAX_GENERATIONS = 64
"""Follow-ups of follow-ups are followed this deep at most (a cycle cannot loop forever)."""


class UnknownEventError(LookupError):
    """The id names no event in the trace, or a prefix names more than one."""


@dataclass(frozen=True)
class Lineage:
    root: str
    generations: dict[str, int]
    """Every event id in the lineage -> its generation (0 = the root event)."""

    def generation(self, event: TraceEvent) -> int:
        return self.generations[event.event_id]


def resolve_id(events: Iterable[TraceEvent], text: str) -> str:
    """The full event id ``text`` names: itself, or the one id it is a prefix of."""
    ids = {e.event_id for e in events} | {e.causation_id for e in events if e.causation_id}
    if text in ids:
        return text
    if len(text) < MIN_PREFIX:
        raise UnknownEventError(
            f"no event {text!r} in the trace (give the full id or its first {MIN_PREFIX}+ "
            "characters)"
        )
    matches = sorted(i for i in ids if i.startswith(text))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UnknownEventError(f"{text!r} is the start of {len(matches)} event ids; give more")
    raise UnknownEventError(f"no event {text!r} in the trace (yet)")


def lineage(events: Iterable[TraceEvent], root: str) -> Lineage:
    """``root`` and every event caused by it, directly or through follow-ups."""
    children: dict[str, set[str]] = {}
    for event in events:
        if event.causation_id and event.causation_id != event.event_id:
            children.setdefault(event.causation_id, set()).add(event.event_id)
    generations = {root: 0}
    frontier = [root]
    for depth in range(1, MAX_GENERATIONS + 1):
        frontier = sorted(
            {child for parent in frontier for child in children.get(parent, ())} - set(generations)
        )
        if not frontier:
            break
        generations.update(dict.fromkeys(frontier, depth))
    return Lineage(root, generations)
