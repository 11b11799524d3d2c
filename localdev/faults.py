"""Fault injection against a running local platform (the fault-injection suite's tools).

Everything here acts on a platform found through its ``platform.json`` state:

- :func:`kill_agent`: SIGKILL an agent's process group; the platform's supervisor starts a
  new instance on the same port (:func:`wait_agent_restarted`).
- :func:`export_firestore` / :func:`restart_firestore`: the Firestore emulator restarted
  with its data. Measured on this SDK's emulator: ``--export-on-exit`` does **not** export
  on SIGTERM or SIGINT, so the data is exported explicitly first
  (``POST /emulator/v1/projects/P:export``), the JVM is stopped, and a new one is started
  on the same ports with ``--import-data``. Writes acknowledged between the export and the
  stop are lost (the JVM keeps serving for a moment after SIGTERM); freezing the writers
  (``freeze=``: SIGSTOP before the export, SIGCONT once the new emulator is ready) closes
  that window.
- Duplicate deliveries are injected by the platform itself
  (``SWITCHBOARD_LOCAL_DUPLICATE_RATE``, :mod:`localdev.delivery`); third-party faults
  (429, 500, slow, drop) by the sandbox (``POST /_sandbox/faults``).

See docs/fault-injection.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

from localdev.emulators import ManagedProcess, port_in_use, start_firestore, wait_until_ready
from localdev.state import pid_alive


def running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    if not pid_alive(pid):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def kill_agent(state: dict[str, Any], agent: str) -> int:
    """SIGKILL the agent's process group (functions-framework and its workers); its PID."""
    pid = int(state["agents"][agent]["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return pid


def wait_agent_restarted(
    state_file: Path, agent: str, old_pid: int, timeout: float = 60.0
) -> dict[str, Any]:
    """Wait until ``platform.json`` names a new, live PID for ``agent``; the new state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            state: dict[str, Any] = json.loads(state_file.read_text())
            pid = int(state["agents"][agent]["pid"])
            if pid != old_pid and running(pid):
                return state
        time.sleep(0.2)
    raise TimeoutError(f"agent {agent!r} was not restarted within {timeout:.0f}s")


def export_firestore(address: str, project: str, directory: Path, timeout: float = 60.0) -> Path:
    """Export the emulator's ``(default)`` database into ``directory``; the export's
    ``*.overall_export_metadata`` file (what ``--import-data`` takes)."""
    directory.mkdir(parents=True, exist_ok=True)
    before = set(directory.glob("*/*.overall_export_metadata"))
    body = json.dumps(
        {"database": f"projects/{project}/databases/(default)", "export_directory": str(directory)}
    ).encode()
    request = urllib.request.Request(
        f"http://{address}/emulator/v1/projects/{project}:export",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
    created = sorted(set(directory.glob("*/*.overall_export_metadata")) - before)
    if not created:
        raise RuntimeError(f"the Firestore emulator wrote no export under {directory}")
    return created[-1]


def restart_firestore(
    state: dict[str, Any],
    directory: Path,
    log_dir: Path,
    timeout: float = 60.0,
    freeze: list[int] | None = None,
) -> tuple[ManagedProcess, float]:
    """Export, stop the emulator (SIGTERM to its group), start a new one on the same ports
    with the export imported. Returns the new process (the caller must stop it: the
    platform only knows the old one) and how long Firestore was unreachable.

    ``freeze``: process groups to SIGSTOP from just before the export until the new
    emulator is ready (then SIGCONT), so that nothing writes between the export and the
    stop: without it, writes acknowledged in that window are lost."""
    frozen = list(freeze or [])
    for pid in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGSTOP)
    try:
        if frozen:
            time.sleep(0.5)  # requests already sent reach the emulator before the export
        return _restart_firestore(state, directory, log_dir, timeout)
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGCONT)


def _restart_firestore(
    state: dict[str, Any], directory: Path, log_dir: Path, timeout: float
) -> tuple[ManagedProcess, float]:
    firestore = state["firestore"]
    host, port = firestore["host"], int(firestore["port"])
    websocket = int(firestore["websocket_port"])
    exported = export_firestore(f"{host}:{port}", state["project"], directory, timeout)
    down = time.monotonic()
    pid = int(firestore["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
        running(pid) or port_in_use(port, host) or port_in_use(websocket, host)
    ):
        time.sleep(0.05)
    if running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    replacement = start_firestore(
        port, log_dir, host, websocket_port=websocket, wait=False, import_data=exported
    )
    try:
        wait_until_ready(replacement, timeout=timeout)
    except BaseException:
        replacement.stop()
        raise
    return replacement, time.monotonic() - down
