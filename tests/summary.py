"""Counts that tests want in the terminal summary (``tests/conftest.py`` prints them).

pytest captures a test's stdout, so a test that must show numbers in CI's log (the
fuzzed catalogue's inputs, clean errors, accepted) records them here instead.
"""

from __future__ import annotations

LINES: dict[str, str] = {}


def report(title: str, line: str) -> None:
    """Show ``title: line`` in the terminal summary of this pytest run."""
    LINES[title] = line
