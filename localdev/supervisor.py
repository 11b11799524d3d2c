"""Restart agents whose process died, like Cloud Run starting a new instance.

An agent that keeps crashing right after it starts (a syntax error, a failing import) is
restarted with a growing delay (1, 2, 4 ... 30 s) instead of in a tight loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from localdev.emulators import ManagedProcess
from localdev.processes import wait_listening
from localdev.trace import TraceWriter

CHECK_INTERVAL_SECONDS = 0.5
QUICK_CRASH_SECONDS = 30.0
MAX_RESTART_DELAY_SECONDS = 30.0


def restart_delay(quick_crashes: int) -> float:
    """Delay before the next restart after ``quick_crashes`` crashes in a row, each within
    ``QUICK_CRASH_SECONDS`` of its start: none for the first, then 1, 2, 4 ... 30 s."""
    if quick_crashes <= 1:
        return 0.0
    return min(MAX_RESTART_DELAY_SECONDS, 2.0 ** (quick_crashes - 2))


class Supervisor:
    """Watches ``agents`` (a live mapping) and respawns the dead ones with ``spawn``."""

    def __init__(
        self,
        agents: Mapping[str, ManagedProcess],
        *,
        spawn: Callable[[str], ManagedProcess],
        restarted: Callable[[], None],
        trace: TraceWriter,
        stopping: threading.Event,
        lock: threading.RLock,
    ) -> None:
        self._agents = agents
        self._spawn = spawn
        self._restarted = restarted
        self._trace = trace
        self._stopping = stopping
        self._lock = lock
        self._started = {name: time.monotonic() for name in agents}
        self._quick_crashes: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_INTERVAL_SECONDS):
            for name, managed in list(self._agents.items()):
                if not managed.running() and not self._stopping.is_set():
                    self._handle_death(name, managed)

    def _handle_death(self, name: str, managed: ManagedProcess) -> None:
        now = time.monotonic()
        if name not in self._not_before:
            quick = now - self._started.get(name, 0.0) < QUICK_CRASH_SECONDS
            crashes = self._quick_crashes.get(name, 0) + 1 if quick else 1
            self._quick_crashes[name] = crashes
            delay = restart_delay(crashes)
            self._not_before[name] = now + delay
            code = managed.process.returncode
            when = f"restarting in {delay:g}s" if delay else "restarting"
            self._trace.info(
                f"! agent {name!r} (pid {managed.pid}) exited with code {code}; {when} "
                f"(log: {managed.log_path})"
            )
        if now < self._not_before[name]:
            return
        del self._not_before[name]
        with self._lock:
            if self._stopping.is_set():
                return
            replacement = self._spawn(name)
        self._started[name] = time.monotonic()
        try:
            wait_listening(replacement)
        except Exception as error:
            self._trace.info(f"! agent {name!r} did not come back: {error}")
            return
        self._trace.info(
            f"! agent {name!r} restarted as pid {replacement.pid} on port {replacement.port}"
        )
        self._restarted()
