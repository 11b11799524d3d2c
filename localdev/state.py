"""``.local/platform.json``: where the running local platform listens, so other commands
(scenarios, tests, tools) can find it. Written when the platform is ready, rewritten when
an agent is restarted, removed on stop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_VERSION = 1
STATE_FILE = "platform.json"
DEFAULT_STATE_DIR = Path(__file__).resolve().parents[1] / ".local"


class NoPlatformError(RuntimeError):
    """No local platform is running (no state file, or its process is gone)."""


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write atomically (readers never see half a file); readable by the owner only,
    since it holds the local (fake) secret values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        os.chmod(temporary, 0o600)
        json.dump({"version": STATE_VERSION, **state}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    temporary.replace(path)


def remove_state(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".tmp").unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(path: Path) -> dict[str, Any]:
    """The running platform's state, or NoPlatformError saying how to start one."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoPlatformError(
            f"no local platform is running ({path} does not exist); start one with "
            "`make dev` (python -m localdev up)"
        ) from None
    if not pid_alive(int(state.get("pid", 0))):
        raise NoPlatformError(
            f"{path} names platform process {state.get('pid')}, which is not running; "
            "start the platform again with `make dev`"
        )
    return state


def platform_pids(state: dict[str, Any]) -> list[int]:
    """Every process a platform's state file names: emulators, agents, the sandbox."""
    found = [state["pubsub"]["pid"], state["firestore"]["pid"]]
    found += [agent["pid"] for agent in state["agents"].values()]
    if state.get("sandbox"):
        found.append(state["sandbox"]["pid"])
    return [int(pid) for pid in found]
