"""Fixtures shared by the whole suite: emulators started and stopped by PID.

Emulator tests skip, with the reason, on a machine without the emulators. Where
SWITCHBOARD_REQUIRE_EMULATORS=1 (set by .ci/run when it finds them), a skip is a failure.

An invalid catalogue fails the suite once, in :data:`CATALOGUE_TEST`, with every problem;
each other test that then fails because of it (its error is, or is caused by, a
``CatalogueError``; its report or output quotes one of the problems; or it edits a copy of
the real functions/) is reported as skipped with a pointer there, not as a hundred copies
of the same message. With a valid catalogue nothing is changed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import CatalogueError, load_catalogue
from localdev.emulators import Emulators, running_emulators, unavailable_reason

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE_TEST = "tests/infra/catalogue/test_loader.py::test_the_catalogue_loads"
CATALOGUE_MESSAGE = "invalid agent catalogue"
COPY_FIXTURE = "functions_copy"
"""Tests that edit a copy of the real functions/ depend on it being valid."""


@functools.cache
def catalogue_problems() -> tuple[str, ...]:
    """The real catalogue's problems (``field: message``), empty when it is valid."""
    try:
        load_catalogue()
    except CatalogueError as error:
        return tuple(f"{p.field}: {p.message}" if p.field else p.message for p in error.problems)
    return ()


def _caused_by_catalogue(error: BaseException | None, text: str) -> bool:
    """The failure is the invalid catalogue's: a CatalogueError (or caused by one), or a
    failure whose report quotes one of the real catalogue's problems (a test of an edited
    copy of functions/ that found the real problem besides its own)."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, CatalogueError) or CATALOGUE_MESSAGE in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return any(problem in text for problem in catalogue_problems())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    report = outcome.get_result()
    if (
        report.failed
        and call.excinfo is not None
        and item.nodeid != CATALOGUE_TEST
        and catalogue_problems()
        and (
            COPY_FIXTURE in getattr(item, "fixturenames", ())
            or _caused_by_catalogue(
                call.excinfo.value,
                "\n".join((report.longreprtext, report.capstdout, report.capstderr)),
            )
        )
    ):
        report.outcome = "skipped"
        report.longrepr = (
            str(item.path),
            item.location[1] or 0,
            f"Skipped: functions/ is an invalid catalogue: see {CATALOGUE_TEST}",
        )


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
