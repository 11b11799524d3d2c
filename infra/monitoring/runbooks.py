"""Where an alert's runbook lives: ``docs/runbooks/<name>.md``, linked from every alert
(and, for a failed ``pulumi up``, from the program's own error messages)."""

from __future__ import annotations

from pathlib import Path

RUNBOOK_DIR = "docs/runbooks"
DEAD_LETTERS = "dead-letters"
BACKLOG = "subscription-backlog"
AGENT_ERRORS = "agent-errors"
FIRESTORE_RESTORE = "firestore-restore"
SECRET_ROTATION = "secret-rotation"
DEPLOY_FAILURES = "deploy-failures"
ALL = (DEAD_LETTERS, BACKLOG, AGENT_ERRORS, FIRESTORE_RESTORE, SECRET_ROTATION, DEPLOY_FAILURES)


def runbook_path(name: str) -> str:
    return f"{RUNBOOK_DIR}/{name}.md"


def runbook_url(name: str, base_url: str | None) -> str | None:
    """The browsable URL when the stack sets ``monitoring.runbookBaseUrl``, else None."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{name}.md"


def missing_runbooks(repo_root: Path) -> list[str]:
    return [name for name in ALL if not (repo_root / runbook_path(name)).is_file()]


def deploy_failure_pointer(section: str) -> str:
    """The line a failed deploy's message ends with: where to read what to do."""
    return f"What to do: {runbook_path(DEPLOY_FAILURES)} ({section})."
