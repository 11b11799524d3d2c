"""The cost part of ``make diff``: each stack's monthly cost before and after a change, the
lines that moved, and the subscriptions whose deliveries moved (like Infracost's comment).

Both sides are priced with the working tree's catalogue, traffic profile and calibration;
what differs is the render (sizes, instances, filters and retry limits as deployed, PITR,
backups, exports, NAT), so the figure isolates what the change deploys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.catalogue.loader import load_catalogue
from tools.cost.calibration import load_calibration
from tools.cost.errors import CostInputError
from tools.cost.estimate import Estimate, estimate
from tools.cost.prices import load_prices
from tools.cost.render_facts import read_render
from tools.cost.traffic import load_traffic, traffic_path

MOVED = 0.005  # half a cent


def _estimate(render: Mapping[str, Any], stack: str) -> Estimate:
    return estimate(
        load_catalogue(),
        read_render({**render, "stack": stack}),
        load_traffic(traffic_path(stack)),
        load_calibration(),
        load_prices(),
    )


def _lines(result: Estimate) -> dict[tuple[str, str, str], float]:
    lines: dict[tuple[str, str, str], float] = {}
    for priced in result.items:
        key = (priced.item.service, priced.item.item, priced.item.agent)
        lines[key] = lines.get(key, 0.0) + priced.cost
    return lines


def stack_section(stack: str, base: Mapping[str, Any], head: Mapping[str, Any]) -> list[str]:
    if not base.get("resources") or not head.get("resources"):
        return [f"  {stack}: no cost comparison (one side has no render)"]
    try:
        before, after = _estimate(base, stack), _estimate(head, stack)
    except CostInputError as error:
        return [f"  {stack}: cost not estimated: {error}"]
    delta = after.total - before.total
    out = [f"  {stack}: ${before.total:,.2f} -> ${after.total:,.2f} a month ({delta:+,.2f})"]
    old, new = _lines(before), _lines(after)
    for key in sorted(set(old) | set(new)):
        change = new.get(key, 0.0) - old.get(key, 0.0)
        if abs(change) >= MOVED:
            service, item, agent = key
            out.append(
                f"    {service}: {item} [{agent}] "
                f"${old.get(key, 0.0):,.2f} -> ${new.get(key, 0.0):,.2f} ({change:+,.2f})"
            )
    subs_before = {s.subscription_id: s for s in before.flow.subscriptions}
    for sub in after.flow.subscriptions:
        was = subs_before.get(sub.subscription_id)
        was_n = was.attempts if was else 0.0
        if abs(sub.attempts - was_n) >= 0.5:
            out.append(
                f"    deliveries {sub.subscription_id}: {was_n:,.0f} -> {sub.attempts:,.0f} "
                f"a month (without its filter: {sub.attempts_without_filter:,.0f})"
            )
    return out


def cost_section(pairs: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]) -> str:
    """The text ``make diff`` appends: one block per stack compared."""
    if not pairs:
        return ""
    lines = ["", "Monthly cost at list prices (python -m tools.cost; docs/cost.md):"]
    for stack, base, head in pairs:
        lines += stack_section(stack, base, head)
    return "\n".join(lines) + "\n"
