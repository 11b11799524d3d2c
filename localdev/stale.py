"""Clean up after a platform that died without stopping (SIGKILL, power loss, ...).

Its state file still names the processes it started. Each one still alive *and still
running what the platform started there* (checked in ``/proc/<pid>/cmdline``, so a
recycled PID is never touched) is stopped by process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from localdev.state import pid_alive

MARKERS = ("cloud-pubsub-emulator", "cloud-firestore-emulator", "functions_framework", "sandbox")


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def recorded_pids(state: dict[str, Any]) -> list[int]:
    pids = []
    for key in ("pubsub", "firestore", "sandbox"):
        component = state.get(key)
        if isinstance(component, dict) and "pid" in component:
            pids.append(int(component["pid"]))
    pids += [int(agent["pid"]) for agent in (state.get("agents") or {}).values()]
    return pids


def reap_stale(state_file: Path, timeout: float = 10.0) -> list[int]:
    """Stop the leftovers a dead platform recorded; returns the PIDs it stopped."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if pid_alive(int(state.get("pid", 0))):
        return []  # the platform is alive: not stale
    leftovers = [
        pid
        for pid in recorded_pids(state)
        if pid_alive(pid) and any(marker in _cmdline(pid) for marker in MARKERS)
    ]
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in leftovers):
        time.sleep(0.1)
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    return leftovers
