"""Preflight rule: a stack's billing budget follows the cost model's estimate.

Where the render declares a budget (``gcp:billing/budget:Budget``, when the stack names a
billing account), the estimate at the stack's traffic profile (tools/cost, docs/cost.md)
should sit below it, and not far below: a budget under the estimate alerts every month, one
ten times over it never alerts in time.
"""

from __future__ import annotations

from collections.abc import Iterator

from library import gcp_types
from tools.cost.errors import CostInputError
from tools.preflight.findings import Finding, StackFacts
from tools.preflight.graph import Render

FAR_BELOW = 0.1  # an estimate under a tenth of the budget


def budget_amount(inputs: dict) -> float | None:
    amount = (inputs.get("amount") or {}).get("specifiedAmount") or {}
    try:
        return float(amount.get("units"))
    except (TypeError, ValueError):
        return None


def estimated_total(render: Render) -> float:
    from infra.catalogue.loader import load_catalogue
    from tools.cost.calibration import load_calibration
    from tools.cost.estimate import estimate
    from tools.cost.prices import load_prices
    from tools.cost.render_facts import read_render
    from tools.cost.traffic import load_traffic, traffic_path

    manifest = {
        "stack": render.stack,
        "resources": [
            {"type": n.type, "name": n.name, "custom": n.custom, "inputs": dict(n.inputs)}
            for n in render.nodes.values()
        ],
    }
    return estimate(
        load_catalogue(),
        read_render(manifest),
        load_traffic(traffic_path(render.stack)),
        load_calibration(),
        load_prices(),
    ).total


def budget_follows_the_estimate(render: Render, facts: StackFacts) -> Iterator[Finding]:
    budgets = list(render.of_type(gcp_types.BILLING_BUDGET))
    if not budgets:
        return
    try:
        total = estimated_total(render)
    except CostInputError as error:
        yield Finding(
            "budget-follows-estimate", budgets[0].id, f"no cost estimate: {error}", "fix it"
        )
        return
    for node in budgets:
        amount = budget_amount(dict(node.inputs))
        if amount is None:
            continue
        if total > amount:
            yield Finding(
                "budget-follows-estimate",
                node.id,
                f"the estimate at cost/traffic/{render.stack}.yaml is ${total:,.2f} a month, "
                f"over the budget of {amount:,.2f}",
                "raise switchboard:budget.amount, or lower the traffic profile if it is wrong "
                "(python -m tools.cost --stack " + render.stack + ")",
            )
        elif total < amount * FAR_BELOW:
            yield Finding(
                "budget-follows-estimate",
                node.id,
                f"the estimate at cost/traffic/{render.stack}.yaml is ${total:,.2f} a month, "
                f"under a tenth of the budget of {amount:,.2f}: it would alert too late",
                "lower switchboard:budget.amount towards the estimate",
            )
