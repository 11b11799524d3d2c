"""Errors raised while loading or validating the agent catalogue.

Every problem names the file it was found in and the field inside that file, so that
``pulumi up`` (or the tests) fail before any resource is declared with a message a
person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the catalogue."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class CatalogueError(ValueError):
    """The catalogue is invalid. ``problems`` lists every problem found, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"invalid agent catalogue ({count} problem{'s' * (count != 1)}):\n{lines}")


def display_path(path: Path, root: Path) -> str:
    """The path as a person would type it from the repository root."""
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:
        return path.as_posix()
