"""The start-up warm-up: runs in the background, once, and loads what requests use."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from switchboard_runtime import warmup

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"


def test_steps_run_in_order_on_a_daemon_thread() -> None:
    seen: list[tuple[str, bool]] = []
    steps = [
        lambda: seen.append(("a", threading.current_thread().daemon)),
        lambda: seen.append(("b", threading.current_thread() is threading.main_thread())),
    ]
    run = warmup.Warmup(steps).start()
    assert run.wait(10)
    assert seen == [("a", True), ("b", False)]
    assert run.failed == []


def test_a_failing_step_is_recorded_and_the_rest_still_run() -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("no credentials here")

    run = warmup.Warmup([broken, lambda: seen.append("after")]).start()
    assert run.wait(10)
    assert seen == ["after"]
    assert len(run.failed) == 1 and "no credentials here" in run.failed[0]


@pytest.mark.parametrize("value", ["off", "0", "false", "OFF "])
def test_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SWITCHBOARD_PRELOAD", value)
    assert warmup.start() is None


PROBE = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    import main
    run = main.agent.warmup
    assert run is not None and run.wait(120), "warm-up did not finish"
    from switchboard_runtime import clients, warmup
    assert warmup.start() is run, "a second start must not warm again"
    assert run.failed == [], run.failed
    assert "google.cloud.firestore" in sys.modules and "pydantic" in sys.modules
    kinds = sorted(key[0] for key in clients._cache)
    assert kinds == ["firestore", "publisher"], kinds
    # The request path gets the very client the warm-up built.
    assert clients.firestore_client() is clients._cache[
        ("firestore", "demo-warm", "(default)", "localhost:1")
    ]
    print("ok")
    """
)


@pytest.mark.slow
def test_an_agent_process_warms_its_clients_in_the_background() -> None:
    """A real agent module, fresh process: constructing its Agent loads the runtime's
    SDKs and builds the cached clients the first request will use."""
    env = {
        **os.environ,
        "GOOGLE_CLOUD_PROJECT": "demo-warm",
        "FIRESTORE_EMULATOR_HOST": "localhost:1",  # clients connect lazily: no server
        "PUBSUB_EMULATOR_HOST": "localhost:2",
        "SWITCHBOARD_PRELOAD": "on",
    }
    folder = FUNCTIONS / "ledger"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder), str(FUNCTIONS / "shared")],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        check=False,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


FORK_PROBE = textwrap.dedent(
    """
    import os, sys, time
    sys.argv[0] = "functions-framework"  # as gunicorn's master sees it
    sys.path[:0] = [sys.argv[1]]
    from switchboard_runtime import warmup
    ran = []
    def slow():
        ran.append(os.getpid())
        time.sleep(0.3)
    run = warmup.start((slow,))
    assert run.clients is False, "the master must not open gRPC channels"
    time.sleep(0.05)  # the slow step is under way when the master forks
    pid = os.fork()
    if pid == 0:
        child = warmup.start()
        ok = child is not run and child.clients and child.wait(120)
        ok = ok and ran.count(os.getpid()) == 1 and not child.failed
        if not ok:
            print(child.clients, ran, child.failed, file=sys.stderr)
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    assert run.stopped and run.wait(10)
    print("ok")
    """
)


@pytest.mark.slow
def test_a_forked_worker_warms_itself_and_the_master_stops() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FORK_PROBE, str(FUNCTIONS / "shared")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GOOGLE_CLOUD_PROJECT": "demo-fork",
            "FIRESTORE_EMULATOR_HOST": "localhost:1",
            "PUBSUB_EMULATOR_HOST": "localhost:2",
            "SWITCHBOARD_PRELOAD": "on",
        },
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
