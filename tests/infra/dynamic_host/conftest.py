"""Where the host runs: the repository root (where the engine usually starts it) and a
directory that is not (the engine started elsewhere, ``pulumi -C``, automation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.offline.harness import REPO_ROOT
from tests.infra.dynamic_host.host import DynamicHost, dynamic_host

PLACES = ["repository-root", "elsewhere"]


@pytest.fixture(params=PLACES)
def host_cwd(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "repository-root":
        return REPO_ROOT
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    return elsewhere


@pytest.fixture(scope="module", params=PLACES)
def configured_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DynamicHost]:
    """One host per place for a module's stateless calls (Check, Diff), configured once: as
    the engine runs one host for every resource of a provider in a preview."""
    cwd = REPO_ROOT if request.param == "repository-root" else tmp_path_factory.mktemp("elsewhere")
    with dynamic_host(cwd) as host:
        host.configure()
        yield host
