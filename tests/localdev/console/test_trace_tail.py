"""Following trace.jsonl as it grows, and the per-subscription counts."""

from __future__ import annotations

import json
from pathlib import Path

from localdev.console.trace_tail import TraceTail, count_key, count_kinds


def record(outcome: str, subscription: str = "billing-on-bookings", **extra: object) -> dict:
    return {"outcome": outcome, "subscription": subscription, "event_id": "e1", **extra}


def append(path: Path, *records: dict, partial: str = "") -> None:
    with path.open("a", encoding="utf-8") as handle:
        for item in records:
            handle.write(json.dumps(item) + "\n")
        handle.write(partial)


def test_outcomes_count_as_the_edge_shows_them() -> None:
    assert count_kinds(record("acked", status=200)) == ("delivered", "acked")
    assert count_kinds(record("retry")) == ("delivered", "retried")
    assert count_kinds(record("dead-lettered")) == ("delivered", "dead_lettered")
    assert count_kinds(record("filtered out")) == ("filtered_out",)
    runtime = record("acked", status=200, agent_outcome="dead_lettered")
    assert count_kinds(runtime) == ("delivered", "acked", "dead_lettered")
    assert count_kinds(record("something new")) == ()


def test_ticks_count_for_their_schedule() -> None:
    tick = {"outcome": "published", "subscription": "", "detail": "to ticks for reminders"}
    assert count_key(tick) == "schedule:reminders"
    assert count_key(record("acked")) == "billing-on-bookings"


def test_reads_only_complete_lines_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    tail = TraceTail(path)
    assert tail.poll() == 0  # no file yet
    append(path, record("retry"), record("acked"), partial='{"outcome": "ack')
    assert tail.poll() == 2
    assert tail.counts() == {"billing-on-bookings": {"delivered": 2, "retried": 1, "acked": 1}}
    with path.open("a") as handle:
        handle.write('ed", "subscription": "ledger-on-bookings"}\nnot json\n[1]\n')
    assert tail.poll() == 1
    assert [r["seq"] for r in tail.since(0, 10)] == [1, 2, 3]
    assert [r["seq"] for r in tail.since(1, 1)] == [3]
    assert tail.counts()["ledger-on-bookings"] == {"delivered": 1, "acked": 1}


def test_a_rewritten_file_starts_over_without_reusing_sequence_numbers(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    append(path, record("acked"), record("acked"), record("acked"))
    tail = TraceTail(path)
    tail.poll()
    path.unlink()
    append(path, record("retry"))  # the platform's next start
    assert tail.poll() == 1
    assert tail.counts() == {"billing-on-bookings": {"delivered": 1, "retried": 1}}
    assert [r["seq"] for r in tail.since(0, 10)] == [4]


def test_memory_is_bounded_but_counts_are_complete(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    append(path, *[record("acked", event_id=str(i)) for i in range(50)])
    tail = TraceTail(path, keep=10)
    tail.poll()
    kept = tail.select(lambda r: True, 100)
    assert [r["event_id"] for r in kept] == [str(i) for i in range(40, 50)]
    assert tail.counts()["billing-on-bookings"]["acked"] == 50


def test_an_absurd_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    append(path, {"outcome": "acked", "detail": "x" * 70_000}, record("acked"))
    tail = TraceTail(path)
    assert tail.poll() == 1
