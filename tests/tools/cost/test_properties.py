"""Properties of the model: linear in traffic; a filter never raises cost; a subscription
whose filter matches nothing costs only its fixed part."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tools.cost.conftest import calibration, facts, traffic
from tools.cost.estimate import estimate
from tools.cost.prices import load_prices

PRICES = load_prices()
rates = st.floats(min_value=0, max_value=1e6, allow_nan=False)
failures = st.floats(min_value=0, max_value=0.9, allow_nan=False)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(placed=rates, shipped=rates, failure=failures, k=st.floats(min_value=0, max_value=50))
def test_cost_is_linear_in_traffic(catalogues, placed, shipped, failure, k) -> None:
    fleet = catalogues('attributes.type = "order.placed"')
    once = estimate(fleet, facts(), traffic(placed, shipped, failure), calibration(), PRICES)
    scaled = estimate(
        fleet, facts(), traffic(placed * k, shipped * k, failure), calibration(), PRICES
    )
    assert scaled.total == pytest.approx(k * once.total, rel=1e-9, abs=1e-9)


@SETTINGS
@given(placed=rates, shipped=rates, failure=failures, warm=st.integers(0, 2))
def test_adding_a_filter_never_raises_cost(catalogues, placed, shipped, failure, warm) -> None:
    profile = traffic(placed, shipped, failure)
    without = estimate(catalogues(None), facts(warm), profile, calibration(), PRICES)
    for text in ('attributes.type = "order.placed"', 'attributes.type = "order.shipped"'):
        filtered = estimate(catalogues(text), facts(warm), profile, calibration(), PRICES)
        assert filtered.total <= without.total + 1e-12


@SETTINGS
@given(placed=rates, shipped=rates, failure=failures, warm=st.integers(0, 2))
def test_a_filter_matching_nothing_costs_only_the_fixed_part(
    catalogues, placed, shipped, failure, warm
) -> None:
    fleet = catalogues('attributes.source = "nobody"')
    profile = traffic(placed, shipped, failure)
    result = estimate(fleet, facts(warm), profile, calibration(), PRICES)
    worker = [p for p in result.items if p.item.agent == "worker"]
    fixed = {"run.idle_vcpu_second", "run.idle_gib_second"}
    per_delivery = [p for p in worker if p.item.unit_key not in fixed]
    # the only traffic-dependent line left is Pub/Sub billing the filtered-out messages
    assert all(p.item.item.startswith("filtered out of ") for p in per_delivery)
    idle = estimate(fleet, facts(warm), traffic(0, 0, failure), calibration(), PRICES)
    assert sum(p.cost for p in worker if p.item.unit_key in fixed) == pytest.approx(idle.total)
    [sub] = result.flow.subscriptions
    assert sub.attempts == 0
    assert sub.filtered_out == pytest.approx(sub.messages_on_topic)
