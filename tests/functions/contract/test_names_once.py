"""The contract's names are spelled out once in non-test code: in switchboard_contract.

Left out of the count: tests, ``bench/`` (its scripts build environments by hand for
other trees, on purpose) and ``policy/`` (the CrossGuard pack runs in its own venv,
without the project installed, so it keeps its own copy of the default database name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CONTRACT = REPO / "functions" / "shared" / "switchboard_contract"
LEFT_OUT = {"tests", "bench", "policy"}
NAMES = (
    "SWITCHBOARD_PUBLIC_URL",
    "SWITCHBOARD_AGENT",
    "SWITCHBOARD_ENVIRONMENT",
    "SWITCHBOARD_TIMEOUT_SECONDS",
    "SWITCHBOARD_DEAD_LETTERS",
    "SWITCHBOARD_FIRESTORE_DATABASE",
    "GOOGLE_CLOUD_PROJECT",
    "(default)",
    "redrive_target",
    "failure_reason",
    "failed_agent",
    "failed_subscription",
    "CloudPubSubDeadLetterSourceDeliveryCount",
    "CloudPubSubDeadLetterSourceSubscription",
    "dead-lettered",
    "cloud-scheduler",
)


def _sources() -> list[Path]:
    return [
        path
        for path in REPO.rglob("*.py")
        if not any(part.startswith(".") for part in path.relative_to(REPO).parts)
        and path.relative_to(REPO).parts[0] not in LEFT_OUT
    ]


@pytest.fixture(scope="module")
def sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in _sources()}


@pytest.mark.parametrize("name", NAMES)
def test_each_name_is_spelled_once_in_the_contract(name: str, sources: dict[Path, str]) -> None:
    literal = f'"{name}"'
    where = [
        f"{path.relative_to(REPO)} ({text.count(literal)})"
        for path, text in sources.items()
        if literal in text
    ]
    assert len(where) == 1 and sum(t.count(literal) for t in sources.values()) == 1, where
    assert where[0].startswith(str(CONTRACT.relative_to(REPO))), where
