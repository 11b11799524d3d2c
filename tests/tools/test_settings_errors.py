"""A stack-settings mistake: every command names the file and key, says what to write,
exits 2, and prints no traceback. The commands run as a user runs them, as processes, in
a copy of the repository whose stack file (or local settings file) is broken."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from infra.offline.harness import run_under_mocks, stack_config
from tools.catalogue_errors import EXIT_INVALID_SETTINGS

REPO = Path(__file__).resolve().parents[2]
PUBLIC_URL = re.compile(r"^\s+publicUrl: .*\n", re.M)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's files (tracked and new, not ignored), copied once."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    target = tmp_path_factory.mktemp("repo")
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if relative.startswith(".venv") or not source.is_file() or source.is_symlink():
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / relative)
    return target


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    """A copy of :func:`pristine` whose files are hard links to it: :func:`edit` replaces
    a file instead of writing through the link."""
    copy = tmp_path / "repo"
    shutil.copytree(pristine, copy, copy_function=os.link)
    return copy


def edit(repo: Path, name: str, change: Callable[[str], str]) -> None:
    path = repo / name
    before = path.read_text()
    after = change(before)
    assert after != before, f"the edit did not change {name}"
    path.unlink()  # the pristine copy keeps its file
    path.write_text(after)


def command(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_clean(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == EXIT_INVALID_SETTINGS, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


MISSING_URL = (
    "Pulumi.dev.yaml",
    "switchboard:agents.gateway.publicUrl: required for the public agent 'gateway'",
    "publicUrl: https://gateway-123456789012.europe-west1.run.app",  # what to write
)
COMMANDS = {
    "render": ("tools.render", "dev", "--out", "out", "--quiet"),
    "diff": ("tools.diff", "--stack", "dev", "--rendered", "rendered"),
    "preflight": ("tools.preflight", "dev"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_public_agent_without_its_url(repo: Path, name: str) -> None:
    edit(repo, "Pulumi.dev.yaml", lambda text: PUBLIC_URL.sub("", text, count=1))
    assert_clean(command(repo, *COMMANDS[name]), *MISSING_URL)


def test_the_pulumi_program_reports_it_as_a_run_error() -> None:
    """`pulumi up` shows a RunError's message as one error, without a traceback."""
    from infra.program import main

    config = stack_config("dev")
    config["switchboard:agents"] = {"gateway": {}}
    with pytest.raises(pulumi.RunError) as caught:
        run_under_mocks(main, stack="dev", config=config)
    for fragment in MISSING_URL:
        assert fragment in str(caught.value)
    # `pulumi up`'s own output points to what to do when a deploy fails.
    last = str(caught.value).splitlines()[-1]
    assert last == "What to do: docs/runbooks/deploy-failures.md (the program refuses the stack)."
    assert (REPO / "docs" / "runbooks" / "deploy-failures.md").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_missing_per_stack_value(repo: Path, name: str) -> None:
    edit(repo, "Pulumi.dev.yaml", lambda text: re.sub(r"\n    CALENDAR_ID: .*", "", text))
    result = command(repo, *COMMANDS[name])
    assert_clean(
        result,
        "Pulumi.dev.yaml",
        "switchboard:agentSettings.CALENDAR_ID: required (declared under settings: by scheduler)",
        'CALENDAR_ID: "c_0123456789abcdef@group.calendar.google.com"',
    )


VERIFY = ("tools.verify", "--stack", "dev", "--no-compute")


@pytest.mark.slow
@pytest.mark.parametrize("name", [*sorted(COMMANDS), "verify"])
def test_a_stack_file_that_is_not_yaml(repo: Path, name: str) -> None:
    edit(repo, "Pulumi.dev.yaml", lambda text: text.replace("config:\n", "config: [\n", 1))
    args = VERIFY if name == "verify" else COMMANDS[name]
    assert_clean(command(repo, *args), "Pulumi.dev.yaml: not valid YAML", "line ")


@pytest.mark.slow
def test_verify_names_a_missing_project(repo: Path) -> None:
    edit(repo, "Pulumi.dev.yaml", lambda text: re.sub(r"\n  gcp:project: .*", "", text))
    assert_clean(command(repo, *VERIFY), "Pulumi.dev.yaml", "gcp:project: required")


@pytest.mark.slow
def test_the_local_platform_names_a_missing_local_value(repo: Path) -> None:
    edit(repo, "localdev/settings.yaml", lambda text: re.sub(r"\n  TWILIO_FROM.*", "", text))
    result = command(repo, "localdev", "up", "--base-port", "0")
    assert_clean(
        result,
        "localdev/settings.yaml",
        "agentSettings.TWILIO_FROM_NUMBER: required by notifier",
        'TWILIO_FROM_NUMBER: "+447700900123"',
    )
