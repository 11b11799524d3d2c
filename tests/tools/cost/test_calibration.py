"""The committed calibration comes from a real local-platform run, and its Firestore write
count per event agrees with what the emulator holds after the scenario."""

from __future__ import annotations

import datetime as dt
import json
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
        assert calibration.measured(agent)


def test_every_agent_with_subscriptions_is_measured_or_named_as_not_calibrated(capsys) -> None:
    """An agent added since the last calibration run (``make agent``) is not silently
    cheap: ``make cost`` names it on every stack, and only it."""
    from tools.cost.__main__ import main

    calibration = load_calibration()
    consumers = {c.agent.name for c in load_catalogue().consumers()}
    not_measured = sorted(a for a in consumers if not calibration.measured(a))
    assert main(["--json"]) == 0
    documents = json.loads(capsys.readouterr().out)
    documents = documents if isinstance(documents, list) else [documents]
    assert documents
    for document in documents:
        assert document["uncalibrated_agents"] == not_measured, document["stack"]


def test_the_report_names_an_agent_the_run_did_not_measure(catalogues) -> None:
    from tests.tools.cost.conftest import facts, traffic
    from tools.cost.calibration import Calibration
    from tools.cost.estimate import estimate
    from tools.cost.prices import load_prices
    from tools.cost.report import text_report

    never_ran = Calibration(
        format="switchboard-calibration/1", measured_at="test", how="test", agents={}
    )
    result = estimate(
        catalogues('attributes.type = "order.placed"'),
        facts(),
        traffic(),
        never_ran,
        load_prices(),
    )
    assert result.uncalibrated == ("worker",)
    assert "not calibrated: worker" in text_report(result)


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
