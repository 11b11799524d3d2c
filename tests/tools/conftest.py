"""Shared fixtures for the tool tests: cached renders and an editable functions/ copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalogue import FUNCTIONS_DIR
from tests.committed_renders import Manifest, committed_manifest


def fresh_render(stack: str) -> Manifest:
    """The working tree's render of ``stack`` (JSON round-tripped), shared: read only."""
    return committed_manifest(stack)


@pytest.fixture
def functions_copy(tmp_path: Path) -> Path:
    target = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return target


@pytest.fixture
def edit_manifest(functions_copy: Path) -> Callable[[str, Callable[[dict[str, Any]], None]], Path]:
    def edit(relative: str, mutate: Callable[[dict[str, Any]], None]) -> Path:
        path = functions_copy / relative
        document = yaml.safe_load(path.read_text())
        mutate(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return edit


def preview_render(stack: str) -> Manifest:
    """``stack`` rendered as a first ``pulumi preview`` runs it, shared: read only."""
    return committed_manifest(stack, preview=True)
