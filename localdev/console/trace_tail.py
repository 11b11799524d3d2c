"""Follow the platform's ``trace.jsonl`` as it grows, and count outcomes per subscription.

Records stay plain dicts (whatever fields the platform writes), so new trace fields reach
the page without a change here. Memory is bounded: the newest ``keep`` records are kept;
the counts cover every record since the file was (re)written.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from switchboard_contract.outcomes import (
    ACKED,
    FILTERED_OUT,
    PLATFORM_DEAD_LETTERED,
    PUBLISHED,
    RETRY,
    RUNTIME_DEAD_LETTERED,
)

MAX_KEPT = 20_000
MAX_LINE_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024
COUNT_KINDS = ("delivered", "acked", "retried", "filtered_out", "dead_lettered")
"""The counters (the console's column names; not outcome names)."""
TICK_DETAIL = re.compile(r"^to (?P<topic>\S+) for (?P<agent>\S+)$")


KINDS_OF_OUTCOME: dict[str, tuple[str, ...]] = {
    ACKED: ("delivered", "acked"),
    RETRY: ("delivered", "retried"),
    PLATFORM_DEAD_LETTERED: ("delivered", "dead_lettered"),
    FILTERED_OUT: ("filtered_out",),
    PUBLISHED: ("published",),
}


def count_kinds(record: dict[str, Any]) -> tuple[str, ...]:
    """Which counters a trace record adds to: a push that failed is delivered + retried."""
    outcome = str(record.get("outcome", ""))
    if outcome == ACKED and record.get("agent_outcome") == RUNTIME_DEAD_LETTERED:
        return ("delivered", "acked", "dead_lettered")  # the agent's runtime dead-lettered it
    return KINDS_OF_OUTCOME.get(outcome, ())


def count_key(record: dict[str, Any]) -> str:
    """The subscription id a record counts for; ticks count for ``schedule:<agent>``."""
    if record.get("outcome") == PUBLISHED and (
        match := TICK_DETAIL.match(str(record.get("detail", "")))
    ):
        return f"schedule:{match['agent']}"
    return str(record.get("subscription", ""))


class TraceTail:
    """Thread-safe incremental reader of one ``trace.jsonl``; call :meth:`poll` to catch up."""

    def __init__(self, path: Path, keep: int = MAX_KEPT) -> None:
        self.path = path
        self._keep = keep
        self._lock = threading.Lock()
        self._offset = 0
        self._inode: int | None = None
        self._partial = b""
        self._records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._seq = 0
        self._counts: dict[str, Counter[str]] = {}

    def _reset(self) -> None:
        self._offset, self._partial = 0, b""
        self._records.clear()
        self._counts.clear()

    def poll(self) -> int:
        """Read what was appended since the last call; returns how many records arrived."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                return 0
            if stat.st_ino != self._inode or stat.st_size < self._offset:
                self._inode = stat.st_ino  # rewritten at the platform's start: begin again
                self._reset()
            if stat.st_size == self._offset:
                return 0
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read(READ_CHUNK)
            self._offset += len(chunk)
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            if len(self._partial) > MAX_LINE_BYTES:
                self._partial = b""  # an absurd line: drop it rather than grow
            return self._ingest(lines)

    def _ingest(self, lines: Iterable[bytes]) -> int:
        arrived = 0
        for line in lines:
            if not line.strip() or len(line) > MAX_LINE_BYTES:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            self._seq += 1
            record["seq"] = self._seq
            self._records.append(record)
            counter = self._counts.setdefault(count_key(record), Counter())
            counter.update(count_kinds(record))
            arrived += 1
        return arrived

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def since(self, seq: int, limit: int) -> list[dict[str, Any]]:
        """Records after ``seq`` (oldest first), at most the newest ``limit`` of them."""
        fresh = []
        with self._lock:
            for record in reversed(self._records):  # newest first: O(new records)
                if record["seq"] <= seq or len(fresh) >= limit:
                    break
                fresh.append(record)
        return fresh[::-1]

    def select(self, keep: Callable[[dict[str, Any]], bool], limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` records ``keep`` accepts, oldest first."""
        with self._lock:
            found = [r for r in self._records if keep(r)]
        return found[-limit:]

    def counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {key: dict(counter) for key, counter in self._counts.items() if key}
