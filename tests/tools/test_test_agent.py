"""``make test-agent NAME=...``: one agent's tests, the emulator ones included."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tools.new_agent.__main__ import AGENT_TESTS, REPO_ROOT
from tools.new_agent.scaffold import agent_test_path
from tools.test_agent.__main__ import EXIT_USAGE


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.test_agent", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def collected(*args: str) -> list[str]:
    lines = tool(*args, "--collect-only", "-q").stdout.splitlines()
    return [line for line in lines if "::" in line]


@pytest.mark.slow
def test_it_runs_every_test_of_the_agent_emulator_ones_included() -> None:
    everything = collected("reminders")
    path = agent_test_path(AGENT_TESTS, "reminders").relative_to(REPO_ROOT)
    assert everything and all(line.startswith(f"{path}::") for line in everything)
    unit_only = subprocess.run(
        [sys.executable, "-m", "pytest", str(path), "-m", "not emulator", "--collect-only", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    ).stdout
    # make test-unit would run fewer of them (the reminders' tests all need the emulators)
    assert sum("::" in line for line in unit_only.splitlines()) < len(everything)


def test_an_unknown_agent_is_named_with_the_agents_that_exist() -> None:
    result = tool("no-such-agent")
    assert result.returncode == EXIT_USAGE
    assert "no agent 'no-such-agent'" in result.stderr and "billing" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_test_agent_runs_the_tool() -> None:
    dry = subprocess.run(
        ["make", "-n", "test-agent", "NAME=billing"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert '-m tools.test_agent "$NAME"' in dry.stdout, dry.stdout + dry.stderr
