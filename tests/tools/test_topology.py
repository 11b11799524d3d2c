"""The topology command: docs/topology.* current and regenerated (graph: tests/library)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import FUNCTIONS_DIR
from tools.topology.__main__ import COMMAND, REPO_ROOT, main, outputs


@pytest.mark.parametrize("name", ["topology.mmd", "topology.svg"])
def test_committed_topology_is_current(name: str) -> None:
    path = REPO_ROOT / "docs" / name
    assert path.is_file(), f"{path} missing: run `{COMMAND}`"
    assert path.read_text(encoding="utf-8") == outputs(FUNCTIONS_DIR)[name], (
        f"docs/{name} is stale: run `{COMMAND}` and commit the result"
    )


def test_new_agent_appears_in_both_outputs(
    functions_copy: Path, edit_manifest: Callable[[str, Callable[[dict[str, Any]], None]], Path]
) -> None:
    import shutil

    shutil.copytree(functions_copy / "notifier", functions_copy / "auditor")
    result = outputs(functions_copy)
    assert "agent_auditor" in result["topology.mmd"]
    assert "auditor-on-notifications-dead-letter" in result["topology.svg"]
    root = ET.fromstring(result["topology.svg"])
    assert root.tag.endswith("svg")
    assert outputs(functions_copy) == result  # deterministic


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out-dir", str(tmp_path)]) == 0
    assert main(["--out-dir", str(tmp_path), "--check"]) == 0
    (tmp_path / "topology.mmd").write_text("stale\n")
    assert main(["--out-dir", str(tmp_path), "--check"]) == 1
    assert COMMAND in capsys.readouterr().err
