"""The shell commands in the README's and docs' ``sh`` code blocks, and what the docs test
does with each: run it as written against the local platform, or not (saying why).

A command is one line of a ```sh block (``\\`` continuations joined), without its trailing
``# comment``. Every command must match a rule here; a new command in the docs that no
rule covers fails :func:`unclassified`'s test, so it is either run or excused on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC_FILES = ("README.md", "docs/*.md", "docs/runbooks/*.md")
BLOCK = re.compile(r"^[ \t]*```sh\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)

RUN = "run"
CLOUD = "needs a Google Cloud project, its credentials or the Pulumi CLI"
SUITE = "the test suite or a benchmark itself (minutes): run by make test / .ci/run"
FLEET = "starts the fleet on the default ports: the test starts it the same way on free ports"
OWN_VENV = "installs the CrossGuard pack into a venv of its own (pip): run by .ci/run"
SHELL = "shell set-up of the runbooks' variables, no command of the project's"
BOOTSTRAP = "the first deploy's one-time set-up (ops project, stack files): needs the cloud"

RULES: tuple[tuple[str, str], ...] = (
    (r"^make dev\b", FLEET),
    (r"^make (lint )?test\b|^make faults|^\S*python -m pytest\b|^\S*python (-m )?bench", SUITE),
    (r"^make policy\b|^policy/check\.sh\b", OWN_VENV),
    (r"^make verify\b|^make render preflight\b", RUN),
    (
        r"^make (agent|publish|trace|scenario|deadletters|topology|render|diff|preflight|venv)\b",
        RUN,
    ),
    (r"^(\.venv/bin/)?python -m (tools|localdev)\.?\w*\b", RUN),
    (r"^(pulumi|gcloud|gsutil|gh|curl|printf|read|diff <\()", CLOUD),
    (r"^export [A-Z_]+=", SHELL),
    (
        r"^(cd bootstrap|cd \.\.$|\$EDITOR |for \w+ in |done$|git (add|commit|push)\b|out\(\) )",
        BOOTSTRAP,
    ),
)
NOT_LOCAL = (r"^make verify\b", r"^\S*python -m tools\.verify\b", r" --project[= ]")
"""Run-shaped commands that read a real project: excused as cloud."""


@dataclass(frozen=True)
class DocCommand:
    file: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def strip_comment(line: str) -> str:
    """The command without a trailing ``# comment`` (a ``#`` inside quotes stays)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def doc_commands(root: Path = REPO) -> list[DocCommand]:
    found = []
    files = sorted({path for pattern in DOC_FILES for path in root.glob(pattern)})
    for path in files:
        text = path.read_text(encoding="utf-8")
        for block in BLOCK.finditer(text):
            first_line = text.count("\n", 0, block.start(1)) + 1
            pending, start = "", 0
            for offset, raw in enumerate(block.group(1).splitlines()):
                if not pending:
                    start = first_line + offset
                joined = pending + raw.strip()
                if joined.endswith("\\"):
                    pending = joined[:-1].rstrip() + " "
                    continue
                pending = ""
                command = strip_comment(joined)
                if command:
                    found.append(DocCommand(str(path.relative_to(root)), start, command))
    return found


def verdict(command: DocCommand) -> str | None:
    """``RUN``, the reason it is not run, or None when no rule covers it."""
    if any(re.search(pattern, command.text) for pattern in NOT_LOCAL):
        return CLOUD
    for pattern, outcome in RULES:
        if re.search(pattern, command.text):
            return outcome
    return None


def unclassified(commands: list[DocCommand]) -> list[DocCommand]:
    return [c for c in commands if verdict(c) is None]
