"""Turning a run's trace, documents and logs into a calibration (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from infra.catalogue.loader import load_catalogue
from localdev.trace import ACKED, TraceEvent
from tools.cost.measure import CLAIMS, CREATED, RunRecord, measure

T0 = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def _at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def _ack(agent: str, event_type: str, event_id: str, end: float, cause: str = "") -> TraceEvent:
    return TraceEvent(
        agent=agent,
        subscription=f"{agent}-on-x",
        event_type=event_type,
        event_id=event_id,
        message_id=event_id,
        outcome=ACKED,
        latency_ms=1000,
        causation_id=cause,
        at=_at(end),
    )


def test_follow_ups_documents_and_durations_per_type() -> None:
    trace = [
        _ack("billing", "booking.confirmed", "e1", end=10),
        _ack("billing", "payment.received", "e2", end=20),
        _ack("billing", "payment.received", "e2", end=21),  # a duplicate ack counts once
        _ack("ledger", "payment.recorded", "e3", end=22, cause="e2"),
        _ack("ledger", "notification.requested", "e4", end=23, cause="e2"),
        _ack("ledger", "payment.link_created", "e5", end=24, cause="e1"),
    ]
    documents = {
        CLAIMS: [
            {"agent": "billing", "type": "booking.confirmed"},
            {"agent": "billing", "type": "payment.received"},
        ],
        "payments": [{CREATED: _at(19.5)}],  # created while e2 was being handled
    }
    record = RunRecord(
        trace=trace,
        documents=documents,
        third_party={"stripe": 2},
        logs={"billing": (4, 400)},
        cpu_seconds={"billing": 0.1},
        gateway_ms=[],
        gateway_requests=0,
        ttl_collections=frozenset({CLAIMS}),
    )
    calibration = measure(record, load_catalogue(), "now", "test")
    confirmed = calibration.behaviour("billing", "booking.confirmed")
    received = calibration.behaviour("billing", "payment.received")
    assert confirmed.follow_ups == {"payment.link_created": 1.0}
    assert received.follow_ups == {"notification.requested": 1.0, "payment.recorded": 1.0}
    assert (confirmed.firestore_writes, received.firestore_writes) == (1.0, 2.0)
    assert (confirmed.documents_kept, received.documents_kept) == (0.0, 1.0)
    assert received.third_party_calls == 1.0
    assert received.log_bytes == 200.0
    assert received.cpu_ms == pytest.approx(50.0)
    assert received.duration_ms == 1000.0
    assert received.deliveries == 1
