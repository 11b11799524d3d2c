"""Run the bootstrap program under Pulumi's mocks with a configuration a test chooses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import yaml

from bootstrap.switchboard_bootstrap.program import Bootstrap, run
from infra.offline.harness import REPO_ROOT, Run, run_under_mocks

BOOTSTRAP_DIR = REPO_ROOT / "bootstrap"
STACK_FILE = BOOTSTRAP_DIR / "Pulumi.ops.yaml"
PROJECT = yaml.safe_load((BOOTSTRAP_DIR / "Pulumi.yaml").read_text())["name"]


def example_config(path: Path = STACK_FILE) -> dict[str, Any]:
    """The committed example stack file's ``config:``."""
    return dict(yaml.safe_load(path.read_text())["config"])


def run_bootstrap(
    config: dict[str, Any] | None = None,
    program: Callable[[], Bootstrap] = run,
) -> tuple[Run, dict[str, Any]]:
    """The registrations, and the resolved values of the program's outputs."""
    resolved: dict[str, Any] = {}

    def body() -> Bootstrap:
        bootstrap = program()
        watch(resolved, "state_bucket_url", bootstrap.state.url)
        watch(resolved, "workload_identity_provider", bootstrap.federation.provider_name)
        for stack, url in bootstrap.keys.providers.items():
            watch(resolved, f"secrets_provider:{stack}", url)
        for stack, deployer in bootstrap.deployers.items():
            watch(resolved, f"deployer:{stack}", deployer.email)
        if bootstrap.previewer is not None:
            watch(resolved, "previewer", bootstrap.previewer.email)
        return bootstrap

    chosen = copy.deepcopy(example_config() if config is None else config)
    result = run_under_mocks(body, stack="ops", config=chosen, project=PROJECT)
    return result, resolved


def watch(into: dict[str, Any], key: str, output: pulumi.Output[Any]) -> None:
    output.apply(lambda value: into.__setitem__(key, value))
