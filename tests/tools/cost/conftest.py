"""A one-agent catalogue in tmp, and the pure inputs the cost model takes, built in code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from infra.catalogue.catalogue import Catalogue
from infra.catalogue.loader import load_catalogue
from library import gcp_types
from tools.cost.calibration import Behaviour, Calibration
from tools.cost.render_facts import RenderFacts, Workload
from tools.cost.traffic import TrafficProfile

CATALOGUE = """
topics:
  orders:
    description: Orders.
    event_types: [order.placed, order.shipped]
secrets: {}
"""

WORKER = """
description: Ships placed orders.
platform: function
memory: 512Mi
firestore: true
subscriptions:
  - topic: orders
    {filter}
    max_delivery_attempts: 5
publishes: [orders]
"""


def write_catalogue(root: Path, filter_text: str | None) -> Catalogue:
    (root / "worker").mkdir(parents=True)
    (root / "catalogue.yaml").write_text(CATALOGUE)
    line = f"filter: '{filter_text}'" if filter_text is not None else ""
    (root / "worker" / "agent.yaml").write_text(WORKER.format(filter=line))
    (root / "worker" / "main.py").write_text("def handle(request):\n    return ''\n")
    (root / "worker" / "requirements.txt").write_text("functions-framework\n")
    return load_catalogue(root)


@pytest.fixture(scope="session")
def catalogues(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | None], Catalogue]:
    made: dict[str | None, Catalogue] = {}

    def make(filter_text: str | None) -> Catalogue:
        if filter_text not in made:
            made[filter_text] = write_catalogue(tmp_path_factory.mktemp("fleet"), filter_text)
        return made[filter_text]

    return make


def facts(min_instances: int = 0) -> RenderFacts:
    worker = Workload(
        agent="worker",
        platform="function",
        memory_gib=0.5,
        vcpu=1.0,
        min_instances=min_instances,
        concurrency=1,
        secrets=0,
        vpc_egress=False,
    )
    return RenderFacts(
        stack="test", custom_types={gcp_types.CLOUD_FUNCTION: 1}, workloads={"worker": worker}
    )


def traffic(placed: float = 100_000, shipped: float = 0, failure: float = 0.5) -> TrafficProfile:
    return TrafficProfile.model_validate(
        {
            "format": "switchboard-traffic/1",
            "stack": "test",
            "origin_events_per_day": {"order.placed": placed, "order.shipped": shipped},
            "failure_rate": {"worker": failure},
            "message_bytes": 600,
            "cold_starts_per_day": 0,
        }
    )


def calibration() -> Calibration:
    placed = Behaviour(
        deliveries=1, follow_ups={"order.shipped": 1}, firestore_writes=2, duration_ms=250
    )
    return Calibration(
        format="switchboard-calibration/1",
        measured_at="test",
        how="test",
        agents={"worker": {"order.placed": placed}},
    )
