"""The model against a hand computation, to the cent: one agent, one topic, a filter, a
retry rate and a follow-up event (tests/tools/cost/conftest.py builds them)."""

from __future__ import annotations

import pytest

from tests.tools.cost.conftest import calibration, facts, traffic
from tools.cost.estimate import estimate
from tools.cost.prices import load_prices

# By hand. 100,000 order.placed a day = 100,000 * 365 / 12 = 3,041,666.67 a month.
# The worker fails half its attempts, up to 5: attempts per message (1 - 0.5**5) / 0.5
# = 1.9375 -> 5,893,229.17 pushes; handled 1 - 0.5**5 = 0.96875 -> 2,946,614.58;
# dead-lettered 95,052.08. Each handled order publishes one order.shipped, which the
# filter keeps out of the worker (billed as delivery throughput all the same).
PUSHES = 5_893_229.17
EXPECTED = {
    # 5,893,229.17 requests * $0.40 / million
    ("Cloud Run functions", "run.request"): 2.36,
    # 250 ms at 1 vCPU billed as 300 ms: 5,893,229.17 * 0.3 s * 1 vCPU * $0.000024
    ("Cloud Run functions", "run.vcpu_second"): 42.43,
    # ... * 0.3 s * 0.5 GiB * $0.0000025
    ("Cloud Run functions", "run.gib_second"): 2.21,
    # 2 writes per attempt: 11,786,458.33 * $0.18 / 100,000
    ("Firestore", "firestore.write"): 21.22,
    # at least 1000 bytes per publish (3,041,666.67 + 2,946,614.58), push (5,893,229.17) and
    # dead-letter publish (95,052.08); 600 bytes per filtered-out order.shipped
    # (2,946,614.58): 13,744,531.25 bytes / 2**40 * $40 per TiB
    ("Pub/Sub", "pubsub.throughput"): 0.50,
}
TOTAL = 68.71  # 2.36 + 42.43 + 2.21 + 21.22 + 0.50 = 68.72 line by line; 68.71 unrounded


def test_one_agent_one_topic_filter_retries_follow_up_to_the_cent(catalogues) -> None:
    result = estimate(
        catalogues('attributes.type = "order.placed"'),
        facts(),
        traffic(),
        calibration(),
        load_prices(),
    )
    lines: dict[tuple[str, str], float] = {}
    for priced in result.items:
        key = (priced.item.service, priced.item.unit_key)
        lines[key] = lines.get(key, 0.0) + priced.cost
    assert {k: round(v, 2) for k, v in lines.items()} == EXPECTED
    assert round(result.total, 2) == TOTAL
    [sub] = result.flow.subscriptions
    assert sub.attempts == pytest.approx(PUSHES, abs=0.01)
    # without its filter the worker would get every message on orders (5,988,281.25) * 1.9375
    assert sub.attempts_without_filter == pytest.approx(11_602_294.92, abs=0.01)
    assert sub.filtered_out == pytest.approx(2_946_614.58, abs=0.01)
