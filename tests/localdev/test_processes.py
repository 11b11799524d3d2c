"""Stopping the platform's child processes: one grace period for all, then SIGKILL."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from localdev.emulators import ManagedProcess, spawn
from localdev.processes import stop_all
from localdev.state import pid_alive
from tests.localdev.harness import wait_for

IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)
EXITS_ON_SIGTERM = "import sys, time\nprint('ready', flush=True)\ntime.sleep(600)\n"


def child(tmp_path: Path, name: str, code: str) -> ManagedProcess:
    log = tmp_path / f"{name}.log"
    process = spawn(name, [sys.executable, "-c", code], log)
    wait_for(lambda: "ready" in log.read_text(), 30, f"{name} to start")
    return ManagedProcess(name=name, host="127.0.0.1", port=0, process=process, log_path=log)


@pytest.mark.slow
def test_those_ignoring_sigterm_share_one_grace_period_and_are_named(tmp_path: Path) -> None:
    stubborn = [child(tmp_path, f"stubborn-{n}", IGNORES_SIGTERM) for n in range(3)]
    polite = child(tmp_path, "polite", EXITS_ON_SIGTERM)
    grace = 2.0

    began = time.monotonic()
    killed = stop_all([*stubborn, polite], timeout=grace)
    took = time.monotonic() - began

    assert killed == [managed.name for managed in stubborn]
    assert not any(pid_alive(managed.pid) for managed in [*stubborn, polite])
    # One grace period for all three, not one each (that was 3 x grace).
    assert took < 2 * grace


def test_nothing_is_killed_when_everything_exits(tmp_path: Path) -> None:
    polite = [child(tmp_path, f"polite-{n}", EXITS_ON_SIGTERM) for n in range(2)]
    assert stop_all(polite, timeout=10) == []
    assert all(managed.process.returncode is not None for managed in polite)
