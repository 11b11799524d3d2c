"""The fuzzed catalogue: hundreds of mutated and hostile manifests, a fixed seed.

Each input is either refused with a clean :class:`CatalogueError` (every problem names
the mutated file, with a bounded message) or accepted, and then planned for every stack,
given its local environment (``localdev.agent_env``) and, for a sample, rendered by the
real Pulumi program under mocks. Any other exception is a traceback a user would see,
and any input that takes longer than its time limit is a hang: both fail the test. The
counts are printed in the terminal summary (``tests/conftest.py``).

``SWITCHBOARD_FUZZ_SEED`` and ``SWITCHBOARD_FUZZ_INPUTS`` change the seed and the number
of inputs (CI uses the defaults, so a failure reproduces).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from infra.agent.plan import plan_fleet
from infra.catalogue import FUNCTIONS_DIR, CatalogueError, load_catalogue
from infra.offline.harness import run_stack
from infra.settings import SettingsError
from localdev.agent_env import LocalEndpoints, agent_environment
from localdev.fake_secrets import fake_secrets
from tests.infra.catalogue.catalogue_mutations import Input, generate
from tests.infra.test_settings import settings_for
from tests.summary import report

SEED = int(os.environ.get("SWITCHBOARD_FUZZ_SEED", "20261127"))
INPUTS = int(os.environ.get("SWITCHBOARD_FUZZ_INPUTS", "400"))
RENDERS = 2  # accepted inputs also rendered under mocks (each takes seconds)
LOAD_SECONDS = 10  # per input: load, plan, environment (generous for a loaded machine)
RENDER_SECONDS = 120
MAX_PROBLEM_CHARS = 600
STACKS = ("dev", "staging", "prod")
ENDPOINTS = LocalEndpoints("switchboard-local", "127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:3")


class HangError(Exception):
    """The input took longer than its time limit."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise HangError(f"over {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "functions"
    shutil.copytree(FUNCTIONS_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return root


def check_refusal(error: CatalogueError, item: Input) -> None:
    assert error.problems, "a CatalogueError with no problems"
    for problem in error.problems:
        assert problem.file == f"functions/{item.agent}/agent.yaml", (problem, item.kind)
        assert problem.message.strip()
        assert len(str(problem)) <= MAX_PROBLEM_CHARS, (len(str(problem)), item.kind)


def accept(root: Path, item: Input, render: bool) -> str:
    """Plan, start (local env) and maybe render an accepted catalogue; what was done."""
    catalogue = load_catalogue(root)
    for stack in STACKS:
        try:
            plan_fleet(catalogue, settings_for(stack))
        except SettingsError as error:  # a stack setting the manifest contradicts: clean
            assert item.agent in str(error) and len(str(error)) <= MAX_PROBLEM_CHARS
            return "refused by the stack settings"
    manifest = catalogue.agent(item.agent)
    environment = agent_environment(
        catalogue, manifest, ENDPOINTS, fake_secrets(list(catalogue.secrets)), threads=4
    )
    assert environment["SWITCHBOARD_AGENT"] == item.agent
    assert set(manifest.env) <= set(environment)
    if not render:
        return "planned and started"
    with time_limit(RENDER_SECONDS):
        run = run_stack("dev", functions_root=root)
    assert run.registrations
    return "rendered"


def run_input(root: Path, item: Input, render: bool) -> str:
    path = root / item.agent / "agent.yaml"
    original = path.read_bytes()
    path.write_bytes(item.text.encode("utf-8", "surrogateescape"))
    try:
        with time_limit(LOAD_SECONDS):
            try:
                load_catalogue(root)
            except CatalogueError as error:
                check_refusal(error, item)
                return "clean error"
        return accept(root, item, render)
    finally:
        path.write_bytes(original)


@pytest.mark.slow
def test_fuzzed_catalogue(workspace: Path) -> None:
    manifests = {
        path.parent.name: path.read_text() for path in sorted(workspace.glob("*/agent.yaml"))
    }
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    failures: list[str] = []
    rendered = 0
    items = list(generate(rng, manifests, INPUTS))
    for index, item in enumerate(items):
        render = rendered < RENDERS and item.kind != "yaml structure" and index % 7 == 0
        try:
            outcome = run_input(workspace, item, render)
        except HangError as hang:
            outcome = "hang"
            failures.append(f"input {index} ({item.agent}, {item.kind}): hang {hang}")
        except Exception:
            outcome = "traceback"
            failures.append(
                f"input {index} ({item.agent}, {item.kind}):\n{traceback.format_exc(limit=6)}"
            )
        rendered += outcome == "rendered"
        counts[outcome] = counts.get(outcome, 0) + 1
    accepted = sum(n for k, n in counts.items() if k not in {"clean error", "hang", "traceback"})
    report(
        f"fuzzed catalogue (seed {SEED})",
        f"{len(items)} inputs, {counts.get('clean error', 0)} clean errors, {accepted} accepted "
        f"({', '.join(f'{n} {k}' for k, n in sorted(counts.items()) if k != 'clean error')}), "
        f"{counts.get('traceback', 0)} tracebacks, {counts.get('hang', 0)} hangs",
    )
    assert not failures, "\n\n".join(failures[:10])
    assert counts.get("clean error", 0) >= len(items) // 4, counts
    assert accepted >= len(items) // 20, counts
    assert rendered >= 1, counts


def test_fuzzing_is_deterministic_for_a_seed() -> None:
    manifests = {p.parent.name: p.read_text() for p in sorted(FUNCTIONS_DIR.glob("*/agent.yaml"))}

    def inputs() -> list[Input]:
        return list(generate(random.Random(SEED), manifests, 50))

    assert inputs() == inputs()
