"""The venv target says what it is doing: a line before each step, and pip's own output
(never ``--quiet``), so a first ``make dev`` is not a silent minute and a half. Last, the
project itself is installed editable (no module edits ``sys.path``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_fresh_venv_is_announced_and_pip_is_not_silenced(tmp_path: Path) -> None:
    dry = subprocess.run(
        ["make", "-n", "venv", f"VENV={tmp_path / 'venv'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    lines = dry.splitlines()
    installs = [line for line in lines if "-m pip install" in line]
    assert len(installs) == 3
    assert installs[-1].endswith("-m pip install --no-deps -e .")  # the project, editable
    assert not any("--quiet" in line or " -q" in line for line in installs)
    assert any("echo" in line and "creating" in line for line in lines)
    assert any("echo" in line and "installing the requirements" in line for line in lines)
    assert lines.index(next(x for x in lines if "installing the requirements" in x)) < (
        lines.index(installs[0])
    )
