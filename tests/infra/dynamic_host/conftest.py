"""Where the host runs: the repository root (where the engine usually starts it) and a
directory that is not (the engine started elsewhere, ``pulumi -C``, automation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.offline.harness import REPO_ROOT


@pytest.fixture(params=["repository-root", "elsewhere"])
def host_cwd(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "repository-root":
        return REPO_ROOT
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return elsewhere
