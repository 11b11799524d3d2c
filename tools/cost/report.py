"""The estimate as a table for people and as JSON for tools (``--json``)."""

from __future__ import annotations

from typing import Any

from tools.cost.estimate import Estimate
from tools.cost.prices import PriceTable


def _money(value: float) -> str:
    return f"${value:,.2f}"


def to_json(
    estimate: Estimate, prices: PriceTable, later: Estimate | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "stack": estimate.stack,
        "month": estimate.scenario.month,
        "naive": estimate.scenario.naive,
        "free_tier": estimate.free_tier,
        "currency": prices.currency,
        "region": prices.region,
        "total": round(estimate.total, 2),
        "by_service": {k: round(v, 2) for k, v in estimate.by("service").items()},
        "by_agent": {k: round(v, 2) for k, v in estimate.by("agent").items()},
        "origin_events_per_month": estimate.flow.origin_events_per_month,
        "uncalibrated_agents": list(estimate.uncalibrated),
        "line_items": [
            {
                "service": p.item.service,
                "item": p.item.item,
                "agent": p.item.agent,
                "unit_key": p.item.unit_key,
                "unit": prices.unit(p.item.unit_key).unit,
                "quantity": p.item.quantity,
                "billed_quantity": p.billed_quantity,
                "unit_price": p.item.unit_price,
                "cost": round(p.cost, 6),
                "grows": p.item.grows,
                "price_source": prices.unit(p.item.unit_key).source,
                "price_confirmed": prices.unit(p.item.unit_key).confirmed,
            }
            for p in estimate.items
        ],
        "subscriptions": [
            {
                "agent": s.agent,
                "topic": s.topic,
                "subscription": s.subscription_id,
                "filter": s.filter,
                "messages_on_topic_per_month": s.messages_on_topic,
                "deliveries_per_month": s.attempts + s.ignored_attempts,
                "deliveries_per_month_without_filter": s.attempts_without_filter,
                "filtered_out_per_month": s.filtered_out,
                "dead_lettered_per_month": s.dead_lettered,
            }
            for s in estimate.flow.subscriptions
        ],
    }
    if later is not None:
        result[f"month_{later.scenario.month}"] = {
            "total": round(later.total, 2),
            "growing_lines": [
                {"service": p.item.service, "item": p.item.item, "cost": round(p.cost, 2)}
                for p in later.items
                if p.item.grows
            ],
        }
    return result


def text_report(estimate: Estimate, later: Estimate | None = None) -> str:
    title = f"{estimate.stack}: {_money(estimate.total)} a month (month {estimate.scenario.month}"
    title += ", free tiers applied)" if estimate.free_tier else ", no billing-account free tiers)"
    lines = [title, "", "  by service"]
    lines += [f"    {name:<22} {_money(cost):>12}" for name, cost in estimate.by("service").items()]
    lines += ["", "  by agent"]
    lines += [f"    {name:<22} {_money(cost):>12}" for name, cost in estimate.by("agent").items()]
    lines += ["", "  deliveries per month by subscription (with its filter / without)"]
    for s in estimate.flow.subscriptions:
        lines.append(
            f"    {s.subscription_id:<30} {s.attempts + s.ignored_attempts:>12,.0f} / "
            f"{s.attempts_without_filter:>12,.0f}"
        )
    if estimate.uncalibrated:
        lines += [
            "",
            f"  not calibrated: {', '.join(estimate.uncalibrated)} (no measured figures: "
            "Firestore, logs and third-party calls count as zero; run a scenario that "
            "reaches them with make cost-calibrate)",
        ]
    if later is not None:
        lines += ["", f"  month {later.scenario.month}: {_money(later.total)}; lines that grow:"]
        lines += [
            f"    {p.item.service + ': ' + p.item.item:<48} {_money(p.cost):>12}"
            for p in later.items
            if p.item.grows
        ]
    return "\n".join(lines)
