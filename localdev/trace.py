"""The readable trace of events flowing through the local platform.

Each delivery outcome is one :class:`TraceEvent`, printed as one aligned line for people
and appended as one JSON line to ``trace.jsonl`` for tools and tests.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from switchboard_contract.outcomes import (  # noqa: F401 (the trace's names, re-exported)
    ACKED,
    FILTERED_OUT,
    PUBLISHED,
    RETRY,
    RUNTIME_DEAD_LETTERED,
)
from switchboard_contract.outcomes import PLATFORM_DEAD_LETTERED as DEAD_LETTERED


@dataclass(frozen=True)
class TraceEvent:
    agent: str
    subscription: str
    event_type: str
    event_id: str
    message_id: str
    outcome: str
    attempt: int = 0
    status: int | None = None
    latency_ms: float | None = None
    detail: str = ""
    correlation_id: str = ""
    causation_id: str = ""
    agent_outcome: str = ""
    """The ``outcome`` the agent's runtime answered with (``processed``, ``duplicate``,
    ``dead_lettered``, ...), where it answered one."""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def short_id(event_id: str, length: int = 8) -> str:
    return event_id[:length] if event_id else "-"


def describe_outcome(event: TraceEvent) -> str:
    """``acked (204)``, ``retry 2 in 20s (500)``, ``dead-lettered after 5``, ``filtered out``,
    ``dead-lettered by agent: <reason>`` (the runtime dead-lettered it and answered 200)."""
    status = f" ({event.status})" if event.status is not None else ""
    if event.outcome == ACKED and event.agent_outcome == RUNTIME_DEAD_LETTERED:
        reason = f": {event.detail}" if event.detail else ""
        return f"dead-lettered by agent{reason}"
    if event.outcome == RETRY:
        detail = f" {event.detail}" if event.detail else ""
        return f"retry {event.attempt}{detail}{status}"
    if event.outcome == DEAD_LETTERED:
        return f"dead-lettered after {event.attempt}{status}"
    if event.outcome == ACKED:
        return f"acked{status}"
    if event.detail:
        return f"{event.outcome} {event.detail}"
    return event.outcome


HEADER = f"{'time':<12}  {'agent':<12} {'event type':<24} {'event':<8}  {'outcome':<32} latency"
"""The column titles above :func:`format_line`'s lines."""


def format_line(event: TraceEvent) -> str:
    """One aligned line: time, agent, event type, short event id, outcome, latency."""
    moment = datetime.fromisoformat(event.at).astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]
    latency = f"{event.latency_ms:7.0f} ms" if event.latency_ms is not None else ""
    return (
        f"{moment}  {event.agent:<12} {event.event_type or '-':<24} "
        f"{short_id(event.event_id):<8}  {describe_outcome(event):<32} {latency}"
    ).rstrip()


class TraceWriter:
    """Prints trace lines and appends them as JSON lines; safe to call from many threads."""

    def __init__(self, jsonl_path: Path | None, stream: TextIO | None = None) -> None:
        self._lock = threading.Lock()
        self._stream = stream or sys.stdout
        self._file = None
        if jsonl_path is not None:
            jsonl_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = jsonl_path.open("w", encoding="utf-8")  # this run's events only

    def emit(self, event: TraceEvent) -> None:
        line = format_line(event)
        record = json.dumps(asdict(event), sort_keys=True)
        with self._lock:
            print(line, file=self._stream, flush=True)
            if self._file is not None:
                self._file.write(record + "\n")
                self._file.flush()

    def info(self, text: str) -> None:
        with self._lock:
            print(text, file=self._stream, flush=True)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_trace(path: Path) -> list[TraceEvent]:
    """Every event recorded so far in a ``trace.jsonl`` (for tests and tools)."""
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            events.append(TraceEvent(**json.loads(line)))
    return events
