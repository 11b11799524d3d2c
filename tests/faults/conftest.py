"""The fault-injection suite's shared fixtures: the results table, written at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.processes import sandbox_available
from tests.conftest import require_emulators
from tests.faults.harness import REPO, Fleet, Row, burst_size, full, render, report_path


@pytest.fixture(scope="session")
def rows() -> Iterator[list[Row]]:
    collected: list[Row] = []
    started = time.monotonic()
    yield collected
    if not collected:
        return
    mode = "full" if full() else "short"
    title = (
        f"Fault-injection suite ({mode}, burst {burst_size()}): "
        f"{time.monotonic() - started:.0f}s wall clock"
    )
    table = render(collected, title)
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table)
    print("\n" + table + f"\n(written to {path})")


def start_fleet(root: Path, project: str, env: dict[str, str] | None = None) -> Fleet:
    require_emulators()
    if not sandbox_available(REPO):
        pytest.skip("the sandbox package is not in this tree")
    fleet = Fleet(root, project, env)
    try:
        fleet.start()
    except BaseException:
        fleet.stop()
        raise
    return fleet
