"""Where an alert's runbook lives: ``docs/runbooks/<name>.md``, linked from every alert."""

from __future__ import annotations

from pathlib import Path

RUNBOOK_DIR = "docs/runbooks"
DEAD_LETTERS = "dead-letters"
BACKLOG = "subscription-backlog"
AGENT_ERRORS = "agent-errors"
FIRESTORE_RESTORE = "firestore-restore"
SECRET_ROTATION = "secret-rotation"
ALL = (DEAD_LETTERS, BACKLOG, AGENT_ERRORS, FIRESTORE_RESTORE, SECRET_ROTATION)


def runbook_path(name: str) -> str:
    return f"{RUNBOOK_DIR}/{name}.md"


def runbook_url(name: str, base_url: str | None) -> str | None:
    """The browsable URL when the stack sets ``monitoring.runbookBaseUrl``, else None."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{name}.md"


def missing_runbooks(repo_root: Path) -> list[str]:
    return [name for name in ALL if not (repo_root / runbook_path(name)).is_file()]
