"""Event contracts on the local platform, through the real ledger agent and runtime:

- an event with a field its consumer's schema does not declare (a newer producer's added
  optional field) is handled, not dead-lettered;
- an event of a ``schema_version`` newer than the consumer reads is retried (503), and is
  handled once a revision that knows that version runs (the agent restarted on new code,
  as a rolling deploy replaces an instance).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalogue import FUNCTIONS_DIR
from localdev.faults import kill_agent, wait_agent_restarted
from localdev.trace import ACKED, RETRY
from tests.conftest import require_emulators
from tests.event_versions import declare_cancelled_v2
from tests.localdev.harness import PROJECT, LocalPlatform, pubsub_clients, wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e, pytest.mark.timeout(240)]


def ledger_only(root: Path) -> Path:
    """The real catalogue, runtime and ledger agent (no other agent: no third party),
    with quick retries and enough attempts that a retry is never a dead letter."""
    functions = root / "functions"
    shutil.copytree(FUNCTIONS_DIR, functions, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in functions.iterdir():
        if folder.is_dir() and folder.name not in {"ledger", "shared"}:
            shutil.rmtree(folder)
    manifest = functions / "ledger" / "agent.yaml"
    document = yaml.safe_load(manifest.read_text())
    for subscription in document["subscriptions"]:
        subscription["retry"] = {"minimum_backoff_seconds": 1, "maximum_backoff_seconds": 2}
        subscription["max_delivery_attempts"] = 50
    manifest.write_text(yaml.safe_dump(document))
    return functions


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    require_emulators()
    root = tmp_path_factory.mktemp("contracts")
    running = LocalPlatform(root, ledger_only(root))
    try:
        running.start()
        yield running
    finally:
        running.kill_everything()


def publish(platform: LocalPlatform, data: bytes, version: str) -> str:
    event_id = f"evt-{uuid.uuid4().hex}"
    attributes = {
        "type": "booking.cancelled",
        "event_id": event_id,
        "source": "scheduler",
        "correlation_id": event_id,
        "causation_id": "",
        "schema_version": version,
    }
    with pubsub_clients(platform.last_state["pubsub"]["emulator_host"]) as (publisher, _):
        topic = f"projects/{PROJECT}/topics/bookings"
        publisher.publish(topic, data, **attributes).result(timeout=30)
    return event_id


def outcomes(platform: LocalPlatform, event_id: str) -> list[tuple[str, str, Any]]:
    return [(e.outcome, e.agent_outcome, e.status) for e in platform.events(event_id)]


def test_an_added_optional_field_is_handled_not_dead_lettered(platform: LocalPlatform) -> None:
    body = b'{"booking_id": "bk-contract-0001", "reason": "ill", "refund_policy": "full"}'
    event_id = publish(platform, body, "1")
    found = wait_for(lambda: outcomes(platform, event_id), 60, "the ledger's answer")
    assert found == [(ACKED, "recorded", 200)], found


def test_a_newer_version_is_retried_then_handled_by_a_revision_that_knows_it(
    platform: LocalPlatform,
) -> None:
    event_id = publish(platform, b'{"booking_id": "bk-contract-0002", "why": "ill"}', "2")
    retries = wait_for(
        lambda: len([o for o in outcomes(platform, event_id) if o[0] == RETRY]) >= 2,
        60,
        "two retries of the newer version",
    )
    assert retries
    seen = outcomes(platform, event_id)
    assert all((o[0], o[2]) == (RETRY, 503) for o in seen), seen
    log = Path(platform.state()["agents"]["ledger"]["log"]).read_text(errors="replace")
    assert "schema_version 2 is newer than this revision reads (v1)" in log  # says why

    # The rollout reaches the consumer: the same agent, restarted on code that reads v2.
    declare_cancelled_v2(platform.functions, publishes=1)
    old = kill_agent(platform.state(), "ledger")
    wait_agent_restarted(platform.state_file, "ledger", old)
    wait_for(
        lambda: (ACKED, "recorded", 200) in outcomes(platform, event_id),
        90,
        "the new revision to handle the v2 event",
    )
    assert not [o for o in outcomes(platform, event_id) if "dead" in o[0] + o[1]]
