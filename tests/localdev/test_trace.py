"""How the delivery log shows what the agent's runtime answered."""

from __future__ import annotations

import json

from localdev.delivery import MAX_ANSWER_BYTES, runtime_answer
from localdev.trace import ACKED, RUNTIME_DEAD_LETTERED, TraceEvent, format_line


def acked(agent_outcome: str, detail: str = "") -> TraceEvent:
    return TraceEvent(
        agent="scheduler",
        subscription="scheduler-on-bookings",
        event_type="booking.requested",
        event_id="11dccccf-0000",
        message_id="7",
        outcome=ACKED,
        status=200,
        agent_outcome=agent_outcome,
        detail=detail,
    )


def test_a_runtime_dead_letter_shows_as_dead_lettered_with_its_reason() -> None:
    line = format_line(acked(RUNTIME_DEAD_LETTERED, "invalid booking.requested data: x"))
    assert "dead-lettered by agent: invalid booking.requested data: x" in line
    assert "acked" not in line


def test_a_processed_delivery_stays_acked() -> None:
    assert "acked (200)" in format_line(acked("processed"))


def test_the_runtime_answer_is_read_when_it_is_small_json() -> None:
    answer = json.dumps({"outcome": "dead_lettered", "detail": "bad"}).encode()
    assert runtime_answer(answer) == ("dead_lettered", "bad")
    assert runtime_answer(b"") == ("", "")
    assert runtime_answer(b"OK") == ("", "")
    assert runtime_answer(b"[1]") == ("", "")
    assert runtime_answer(b'{"outcome": 3}') == ("", "")
    huge = json.dumps({"outcome": "processed", "detail": "x" * MAX_ANSWER_BYTES}).encode()
    assert runtime_answer(huge) == ("", "")
