"""Runbooks: every page an alert links exists, and the repository commands they give parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from infra.monitoring.runbooks import ALL, RUNBOOK_DIR
from infra.offline.harness import REPO_ROOT

PAGES = sorted((REPO_ROOT / RUNBOOK_DIR).glob("*.md"))
VARIABLES = {"PROJECT": "p-123456", "AGENT": "billing", "SUB": "billing-on-bookings"}


def commands(page: Path, prefix: str) -> list[list[str]]:
    found = []
    for raw in page.read_text().splitlines():
        text = raw.strip()
        if not text.startswith(prefix):
            continue
        text = text.split("  #")[0]
        text = re.sub(r"\$(\w+)", lambda m: VARIABLES.get(m.group(1), m.group(1)), text)
        found.append(shlex.split(text)[len(prefix.split()) :])
    return found


def test_every_alert_runbook_exists_and_is_indexed() -> None:
    index = (REPO_ROOT / RUNBOOK_DIR / "README.md").read_text()
    for name in ALL:
        assert (REPO_ROOT / RUNBOOK_DIR / f"{name}.md").is_file(), name
        assert f"({name}.md)" in index, name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_deadletter_tool_commands_parse(page: Path) -> None:
    from tools.deadletters.__main__ import build_parser

    for argv in commands(page, "python -m tools.deadletters"):
        build_parser().parse_args(argv)  # exits (SystemExit) on an unknown flag


def test_dead_letter_runbook_uses_the_repository_tool() -> None:
    page = REPO_ROOT / RUNBOOK_DIR / "dead-letters.md"
    verbs = {argv[1] for argv in commands(page, "python -m tools.deadletters")}
    assert verbs == {"list", "show", "redrive", "purge"}
