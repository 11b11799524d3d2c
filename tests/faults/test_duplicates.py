"""Scenario 1: 30% of deliveries pushed twice (``SWITCHBOARD_LOCAL_DUPLICATE_RATE=0.3``).

Bookings go through the whole fleet (gateway -> scheduler -> billing -> notifier, ledger
everywhere) while the platform pushes a concurrent second copy of 30% of deliveries.
Expected: every booking confirmed, one calendar event, one payment link, one SMS and one
ledger entry per event; nothing dead-lettered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.delivery import DUPLICATE_INJECTED
from tests.faults.conftest import start_fleet
from tests.faults.harness import (
    BookingEffects,
    Fleet,
    Row,
    booking_effects,
    full,
    handled,
    request_bookings,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.emulator, pytest.mark.timeout(600)]
RATE = 0.3


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root: Path = tmp_path_factory.mktemp("faults-duplicates")
    fleet = start_fleet(
        root, "switchboard-faults-dup", {"SWITCHBOARD_LOCAL_DUPLICATE_RATE": str(RATE)}
    )
    try:
        yield fleet
    finally:
        fleet.stop()


def test_duplicate_deliveries(fleet: Fleet, rows: list[Row]) -> None:
    started = time.monotonic()
    count = 60 if full() else 10
    row = Row("1. duplicates at 30% of deliveries")
    rows.append(row)
    bookings = request_bookings(fleet, count, "Dup", offset_days=10)
    row.published = count

    effects: BookingEffects | None = None

    def settled() -> bool:
        nonlocal effects
        effects = booking_effects(fleet, bookings)
        return all(effects.complete(b) for b in bookings)

    try:
        wait_for(settled, 240, "every booking to be confirmed, linked, texted and ledgered", 2)
    except AssertionError as timeout:
        row.notes.append(str(timeout))
    time.sleep(3)  # late duplicates: let any second copy land before counting
    effects = booking_effects(fleet, bookings)
    row.lost = sum(1 for b in bookings if not effects.complete(b))
    duplicated = {b.booking_id: effects.duplicated(b) for b in bookings}
    row.duplicated = sum(len(found) for found in duplicated.values())
    row.duplicated += sum(n - 1 for n in effects.refs.values() if n > 1)
    row.processed_once = handled(fleet, bookings)
    trace = fleet.trace()
    ours = {b.event_id for b in bookings}
    injected = [e for e in trace if e.outcome == DUPLICATE_INJECTED and e.correlation_id in ours]
    deliveries = [e for e in trace if e.outcome == "acked" and e.correlation_id in ours]
    letters = [d for d in fleet.all_dead_letters() if d["attributes"].get("correlation_id") in ours]
    row.dead_lettered = len(letters)
    row.unexplained = len(letters)  # none is expected here
    row.notes.append(
        f"{len(injected)} duplicate pushes injected for {len(deliveries)} acked deliveries "
        f"({len(injected) / max(1, len(deliveries)):.0%})"
    )
    row.seconds = time.monotonic() - started
    assert injected, "no duplicate was injected: is SWITCHBOARD_LOCAL_DUPLICATE_RATE honoured?"
    assert row.lost == 0, [b.booking_id for b in bookings if not effects.complete(b)]
    assert row.duplicated == 0, {k: v for k, v in duplicated.items() if v}
    assert row.dead_lettered == 0, letters
    assert row.processed_once == count
