"""Fixtures for the agents and their runtime: import paths, the sandbox, agent apps."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO_ROOT / "functions"
SHARED = FUNCTIONS / "shared"

# In an archive the runtime is a top-level package next to main.py; here it lives in
# functions/shared/, so put that on the path once for the whole suite.
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[object]:
    from sandbox import Sandbox

    with Sandbox() as box:
        yield box
