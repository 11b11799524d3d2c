"""localdev.lineage: following causation ids through the trace."""

from __future__ import annotations

import pytest

from localdev.lineage import UnknownEventError, lineage, resolve_id
from localdev.trace import ACKED, TraceEvent


def delivery(event_id: str, causation_id: str = "", agent: str = "a") -> TraceEvent:
    return TraceEvent(
        agent=agent,
        subscription=f"{agent}-on-t",
        event_type="x",
        event_id=event_id,
        message_id="1",
        outcome=ACKED,
        causation_id=causation_id,
    )


TRACE = [
    delivery("root-0000-aaaa"),
    delivery("child-1", "root-0000-aaaa"),  # delivered before its cause's ack was traced
    delivery("root-0000-aaaa", agent="b"),
    delivery("grandchild", "child-1"),
    delivery("unrelated-0000", "someone-else"),
    delivery("loop-a", "loop-b"),
    delivery("loop-b", "loop-a"),
]


def test_follows_causation_through_generations() -> None:
    family = lineage(TRACE, "root-0000-aaaa")
    assert family.generations == {"root-0000-aaaa": 0, "child-1": 1, "grandchild": 2}


def test_a_causation_cycle_terminates() -> None:
    assert lineage(TRACE, "loop-a").generations == {"loop-a": 0, "loop-b": 1}


def test_ids_resolve_by_unique_prefix() -> None:
    assert resolve_id(TRACE, "root-0000-aaaa") == "root-0000-aaaa"
    assert resolve_id(TRACE, "root-000") == "root-0000-aaaa"
    assert resolve_id(TRACE, "someone-else") == "someone-else"  # a cause never delivered
    with pytest.raises(UnknownEventError, match="first 8"):
        resolve_id(TRACE, "root")
    with pytest.raises(UnknownEventError, match="no event 'missing-id'"):
        resolve_id(TRACE, "missing-id")
    with pytest.raises(UnknownEventError, match="start of 2 event ids"):
        resolve_id([delivery("same-prefix-1"), delivery("same-prefix-2")], "same-pre")
