"""Start the agents (under functions-framework) and the sandbox as supervised processes.

Each runs in its own process group (see :mod:`localdev.emulators`) so that stopping it by
PID stops everything it started (gunicorn's workers included).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from localdev.emulators import EmulatorError, ManagedProcess, spawn

READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0  # from SIGTERM to SIGKILL, for all of them together
KILL_WAIT_SECONDS = 10.0


class ProcessStartError(EmulatorError):
    """An agent or the sandbox did not come up (the message carries its log tail)."""


def agent_command(entry_point: str, port: int, host: str) -> list[str]:
    """functions-framework serving ``main.py`` from the current directory (the agent's)."""
    return [
        sys.executable,
        "-m",
        "functions_framework",
        "--target",
        entry_point,
        "--source",
        "main.py",
        "--signature-type",
        "http",
        "--host",
        host,
        "--port",
        str(port),
    ]


def start_agent(
    name: str,
    *,
    entry_point: str,
    agent_dir: Path,
    port: int,
    env: dict[str, str],
    log_dir: Path,
    host: str = "127.0.0.1",
) -> ManagedProcess:
    log_path = log_dir / f"agent-{name}.log"
    process = spawn(
        f"agent-{name}", agent_command(entry_point, port, host), log_path, env=env, cwd=agent_dir
    )
    return ManagedProcess(f"agent {name!r}", host, port, process, log_path)


def sandbox_available(repo_root: Path) -> bool:
    package = repo_root / "sandbox"
    return (package / "__init__.py").is_file() and (package / "__main__.py").is_file()


def start_sandbox(
    repo_root: Path, port: int, env: dict[str, str], log_dir: Path, host: str = "127.0.0.1"
) -> ManagedProcess:
    log_path = log_dir / "sandbox.log"
    command = [sys.executable, "-m", "sandbox", "--host", host, "--port", str(port)]
    process = spawn("sandbox", command, log_path, env=env, cwd=repo_root)
    return ManagedProcess("sandbox", host, port, process, log_path)


def listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def wait_listening(managed: ManagedProcess, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Wait until the process accepts connections (any HTTP answer will do: a handler may
    well refuse a GET), or fail with its exit code and log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not managed.running():
            raise ProcessStartError(
                f"{managed.name} exited with code {managed.process.returncode} before it "
                f"listened on {managed.address}; last log lines ({managed.log_path}):\n"
                f"{managed.log_tail()}"
            )
        if listening(managed.host, managed.port):
            return
        time.sleep(0.05)
    raise ProcessStartError(
        f"{managed.name} did not listen on {managed.address} within {timeout:.0f}s; "
        f"see {managed.log_path}"
    )


def stop_all(processes: list[ManagedProcess], timeout: float = STOP_GRACE_SECONDS) -> list[str]:
    """SIGTERM every process group at once, give them ``timeout`` seconds in all to exit,
    then SIGKILL each group (what a leader started, gunicorn's workers, may linger).
    Returns the names of those whose leader had not exited by then."""
    for managed in processes:
        if managed.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(managed.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = []
    for managed in processes:
        try:
            managed.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            killed.append(managed.name)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(managed.pid, signal.SIGKILL)
        managed.process.wait(KILL_WAIT_SECONDS)
    return killed
