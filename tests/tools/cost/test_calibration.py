"""The committed calibration comes from a real local-platform run, and its Firestore write
count per event agrees with what the emulator holds after the scenario."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from infra.catalogue.loader import load_catalogue
from localdev.trace import ACKED
from tools.cost.calibration import load_calibration
from tools.cost.measure import CLAIMS, COLLECTION_OWNERS


def test_the_committed_calibration_was_measured() -> None:
    calibration = load_calibration()
    dt.datetime.fromisoformat(calibration.measured_at)
    assert "make cost-calibrate" in calibration.how
    catalogue = load_catalogue()
    for agent, per_type in calibration.agents.items():
        assert agent in catalogue.agents
        for event_type, behaviour in per_type.items():
            assert behaviour.deliveries > 0, (agent, event_type)
    consumers = {c.agent.name for c in catalogue.consumers()}
    assert consumers <= set(calibration.agents), "an agent with subscriptions was not measured"


@pytest.mark.emulator
@pytest.mark.e2e
def test_calibrated_writes_per_event_match_the_emulator(tmp_path) -> None:
    from tests.conftest import require_emulators
    from tools.cost.calibrate import record_run

    require_emulators()
    record, _ = record_run(tmp_path / ".local", runs=1, gateway_requests=0)
    calibration = load_calibration()
    processed: Counter[tuple[str, str]] = Counter()
    seen = set()
    for event in record.trace:
        if event.outcome == ACKED and (event.agent, event.event_id) not in seen:
            seen.add((event.agent, event.event_id))
            processed[(event.agent, event.event_type)] += 1
    held: Counter[str] = Counter(doc["agent"] for doc in record.documents.get(CLAIMS, []))
    for collection, docs in record.documents.items():
        if collection in COLLECTION_OWNERS:
            held[COLLECTION_OWNERS[collection]] += len(docs)
    predicted: Counter[str] = Counter()
    for (agent, event_type), count in processed.items():
        predicted[agent] += count * calibration.behaviour(agent, event_type).firestore_writes
    assert set(held) == set(predicted)
    for agent, documents in held.items():
        assert predicted[agent] == pytest.approx(documents, rel=0.15), agent
