"""Fixtures shared by the whole suite: emulators started and stopped by PID.

Emulator tests skip, with the reason, on a machine without the emulators. Where
SWITCHBOARD_REQUIRE_EMULATORS=1 (set by .ci/run when it finds them), a skip is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.emulators import Emulators, running_emulators, unavailable_reason

REPO_ROOT = Path(__file__).resolve().parents[1]


def require_emulators() -> None:
    """Skip (or, when emulators are required, fail) if the emulators cannot run here."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("SWITCHBOARD_REQUIRE_EMULATORS") == "1":
        pytest.fail(f"emulators are required here but unavailable: {reason}")
    pytest.skip(f"emulators unavailable: {reason}")


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """Both emulators for the whole session, on free ports; stopped by PID at the end."""
    require_emulators()
    with running_emulators(tmp_path_factory.mktemp("emulator-logs")) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what tests recorded in :mod:`tests.summary` (e.g. the fuzzed catalogue's counts)."""
    from tests.summary import LINES

    if LINES:
        terminalreporter.section("switchboard counts")
        for title, line in LINES.items():
            terminalreporter.write_line(f"{title}: {line}")
