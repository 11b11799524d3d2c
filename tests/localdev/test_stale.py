"""Leftovers of a platform that died are stopped on the next start, and nothing else is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.stale import reap_stale
from localdev.state import pid_alive


def sleeper(*marker: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", *marker], start_new_session=True
    )


@pytest.mark.timeout(60)
def test_reaps_recorded_leftovers_but_not_recycled_pids(tmp_path: Path) -> None:
    dead_platform = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_platform.wait()
    leftover = sleeper("functions_framework")
    stranger = sleeper("something-else")
    try:
        state_file = tmp_path / "platform.json"
        state_file.write_text(
            json.dumps(
                {
                    "pid": dead_platform.pid,
                    "pubsub": {"pid": stranger.pid},
                    "firestore": {"pid": 999_999_999},
                    "sandbox": None,
                    "agents": {"a": {"pid": leftover.pid}},
                }
            )
        )
        # (a child of this test stays a zombie until reaped, so do not wait long for it)
        assert reap_stale(state_file, timeout=0.5) == [leftover.pid]
        leftover.wait(10)
        assert not pid_alive(leftover.pid)
        assert stranger.poll() is None
    finally:
        for process in (leftover, stranger):
            process.kill()
            process.wait()


def test_a_live_platform_is_not_stale(tmp_path: Path) -> None:
    state_file = tmp_path / "platform.json"
    state_file.write_text(json.dumps({"pid": os.getpid(), "agents": {}}))
    assert reap_stale(state_file) == []
