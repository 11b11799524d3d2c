"""Errors raised while loading or validating the agent catalogue.

Every problem names the file it was found in and the field inside that file, so that
``pulumi up`` (or the tests) fail before any resource is declared with a message a
person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_FIELD_CHARS = 120
MAX_MESSAGE_CHARS = 400
MAX_EXCERPT_CHARS = 60


def clip(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with a visible ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def excerpt(value: Any, limit: int = MAX_EXCERPT_CHARS) -> str:
    """A short ``repr`` of a value from a file: never more than ``limit`` characters."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} chars)"
    return clip(repr(value), limit)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the catalogue."""

    file: str
    field: str
    message: str

    def __post_init__(self) -> None:
        # Fields and messages may quote what a file says: keep every line short.
        object.__setattr__(self, "field", clip(self.field, MAX_FIELD_CHARS))
        object.__setattr__(self, "message", clip(self.message, MAX_MESSAGE_CHARS))

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
