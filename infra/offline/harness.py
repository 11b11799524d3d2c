"""Run the real Pulumi program under mocks, with a stack's configuration, offline.

Used by the unit tests and the offline render. No Pulumi CLI, plugins or credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.offline.mocks import GcpMocks, RecordingMonitor, Registration

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_NAME = "switchboard"


def stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml``."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such stack file (stacks: dev, staging, prod)")
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Config as the engine hands it to a program: structured values as JSON strings."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise ValueError(f"{key}: encrypted config cannot be read offline")
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat


@dataclass
class Run:
    registrations: list[Registration]
    result: Any

    def of_type(self, token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == token]

    def named(self, name: str, token: str | None = None) -> Registration:
        matches = [
            r for r in self.registrations if r.name == name and (token is None or r.type == token)
        ]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r} (type {token})")
        return matches[0]


def run_under_mocks(
    program: Callable[[], Any],
    *,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: list[str] | None = None,
    project: str = PROJECT_NAME,
) -> Run:
    """Run ``program`` as the body of a Pulumi program and record what it registers.
    ``project`` is the Pulumi project's name (the bootstrap program has its own)."""
    pulumi.runtime.set_all_config(engine_config(config), secret_keys or [])
    monitor = RecordingMonitor(GcpMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor
    )
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    holder: dict[str, Any] = {}

    def body() -> None:
        holder["result"] = program()

    _sync_await(run_pulumi_func(body))
    return Run(monitor.registrations, holder.get("result"))


def run_stack(
    stack: str,
    root: Path = REPO_ROOT,
    overrides: Mapping[str, Any] | None = None,
    functions_root: Path | None = None,
) -> Run:
    """Run the real program (``infra.program.run``) with ``Pulumi.<stack>.yaml``."""
    from infra.catalogue import FUNCTIONS_DIR
    from infra.program import run

    config = stack_config(stack, root)
    config.update(overrides or {})
    root = functions_root or FUNCTIONS_DIR
    return run_under_mocks(lambda: run(root), stack=stack, config=config)
