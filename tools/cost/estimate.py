"""A stack's estimate: line items priced (free tiers applied or not), totals, and the
month-12 view. Pure: everything in, numbers out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from infra.catalogue.catalogue import Catalogue
from tools.cost.calibration import Calibration
from tools.cost.errors import CostInputError
from tools.cost.lineitems import FIRST_MONTH, LineItem, Scenario, build_line_items
from tools.cost.prices import PriceTable
from tools.cost.propagation import Propagation
from tools.cost.render_facts import RenderFacts
from tools.cost.traffic import TrafficProfile

GROWTH_MONTH = 12


@dataclass(frozen=True)
class PricedItem:
    item: LineItem
    billed_quantity: float

    @property
    def cost(self) -> float:
        return self.billed_quantity * self.item.unit_price


@dataclass(frozen=True)
class Estimate:
    stack: str
    scenario: Scenario
    free_tier: bool
    items: list[PricedItem]
    flow: Propagation
    uncalibrated: tuple[str, ...] = ()
    """Agents with subscriptions that were not measured by the calibration run: their
    Firestore, log and third-party lines are zero and their handler time is the minimum
    billed, so the estimate is low for them until ``make cost-calibrate`` reaches them."""

    @property
    def total(self) -> float:
        return sum(p.cost for p in self.items)

    def by(self, what: str) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for priced in self.items:
            sums[getattr(priced.item, what)] += priced.cost
        return dict(sorted(sums.items(), key=lambda kv: -kv[1]))


def check_priced(facts: RenderFacts, prices: PriceTable) -> None:
    """Stop when the render declares a type the price table neither prices nor frees."""
    missing = prices.unpriced_types(facts.custom_types)
    if missing:
        raise CostInputError(
            f"rendered/{facts.stack}.json declares resource types cost/prices.yaml does not "
            f"price or list as free (nothing is silently free): {', '.join(missing)}"
        )


def apply_free_tiers(
    items: list[LineItem], prices: PriceTable, free_tier: bool
) -> list[PricedItem]:
    totals: dict[str, float] = defaultdict(float)
    for item in items:
        totals[item.unit_key] += item.quantity
    factors: dict[str, float] = {}
    for key, quantity in totals.items():
        unit = prices.unit(key)
        free = unit.free if (free_tier or unit.free_scope == "project") else 0.0
        factors[key] = max(0.0, quantity - free) / quantity if quantity else 0.0
    return [PricedItem(item, item.quantity * factors[item.unit_key]) for item in items]


def estimate(
    catalogue: Catalogue,
    facts: RenderFacts,
    traffic: TrafficProfile,
    calibration: Calibration,
    prices: PriceTable,
    *,
    scenario: Scenario = FIRST_MONTH,
    free_tier: bool = False,
) -> Estimate:
    check_priced(facts, prices)
    items, flow = build_line_items(catalogue, facts, traffic, calibration, prices, scenario)
    receiving = {s.agent for s in flow.subscriptions}
    uncalibrated = tuple(sorted(a for a in receiving if not calibration.measured(a)))
    return Estimate(
        facts.stack,
        scenario,
        free_tier,
        apply_free_tiers(items, prices, free_tier),
        flow,
        uncalibrated,
    )
