"""Helpers for infra tests: a private, editable copy of the real catalogue."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalogue import FUNCTIONS_DIR

Editor = Callable[[str, Callable[[dict[str, Any]], None]], Path]


@pytest.fixture
def functions_copy(tmp_path: Path) -> Path:
    """A copy of functions/ (manifests, catalogue and code) that a test may edit."""
    target = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return target


@pytest.fixture
def edit_yaml(functions_copy: Path) -> Editor:
    """``edit_yaml("scheduler/agent.yaml", mutate)`` rewrites one YAML file of the copy."""

    def edit(relative: str, mutate: Callable[[dict[str, Any]], None]) -> Path:
        path = functions_copy / relative
        document = yaml.safe_load(path.read_text())
        mutate(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return edit
