"""One dashboard per stack: a row per agent with throughput, 5xx, latency, backlog and
dead letters. Built from the plans alone, serialised with sorted keys: same catalogue and
settings, same JSON, so the diff of a deploy shows only real changes."""

from __future__ import annotations

import json
from typing import Any

from infra.agent.plan import AgentPlan
from infra.monitoring.alerts import (
    OLDEST_UNACKED,
    REQUEST_COUNT,
    REQUEST_LATENCIES,
    UNDELIVERED,
    service_filter,
)

COLUMNS = 48
TILE_WIDTH = 9
TILE_HEIGHT = 4


def _one_of(ids: list[str]) -> str:
    return "one_of(" + ", ".join(f'"{i}"' for i in ids) + ")"


def _subscriptions_filter(metric: str, ids: list[str]) -> str:
    return (
        f'metric.type = "{metric}" AND resource.type = "pubsub_subscription" '
        f"AND resource.labels.subscription_id = {_one_of(ids)}"
    )


def _chart(
    title: str, filter_: str, aligner: str, reducer: str, group_by: list[str]
) -> dict[str, Any]:
    aggregation: dict[str, Any] = {"alignmentPeriod": "60s", "perSeriesAligner": aligner}
    if reducer:
        aggregation |= {"crossSeriesReducer": reducer, "groupByFields": group_by}
    return {
        "title": title,
        "xyChart": {
            "chartOptions": {"mode": "COLOR"},
            "dataSets": [
                {
                    "plotType": "LINE",
                    "targetAxis": "Y1",
                    "timeSeriesQuery": {
                        "timeSeriesFilter": {"filter": filter_, "aggregation": aggregation}
                    },
                }
            ],
        },
    }


def _text(title: str, content: str) -> dict[str, Any]:
    return {"title": title, "text": {"content": content, "format": "MARKDOWN"}}


def agent_widgets(plan: AgentPlan) -> list[dict[str, Any]]:
    name = plan.name
    widgets = [
        _chart(
            f"{name}: requests/s by response class",
            service_filter(REQUEST_COUNT, name),
            "ALIGN_RATE",
            "REDUCE_SUM",
            ["metric.label.response_code_class"],
        ),
        _chart(
            f"{name}: 5xx/s",
            service_filter(REQUEST_COUNT, name, 'metric.labels.response_code_class = "5xx"'),
            "ALIGN_RATE",
            "REDUCE_SUM",
            ["resource.label.service_name"],
        ),
        _chart(
            f"{name}: p99 latency (timeout {plan.timeout_seconds}s)",
            service_filter(REQUEST_LATENCIES, name),
            "ALIGN_PERCENTILE_99",
            "REDUCE_MAX",
            ["resource.label.service_name"],
        ),
    ]
    if plan.consumers:
        subscriptions = sorted(c.subscription_id for c in plan.consumers)
        dead_letters = sorted(c.dead_letter_subscription_id for c in plan.consumers)
        widgets += [
            _chart(
                f"{name}: backlog (oldest unacked message age, s)",
                _subscriptions_filter(OLDEST_UNACKED, subscriptions),
                "ALIGN_MAX",
                "REDUCE_MAX",
                ["resource.label.subscription_id"],
            ),
            _chart(
                f"{name}: dead letters waiting",
                _subscriptions_filter(UNDELIVERED, dead_letters),
                "ALIGN_MAX",
                "REDUCE_SUM",
                ["resource.label.subscription_id"],
            ),
        ]
    else:
        note = f"`{name}` consumes no subscription (HTTP ingress only): no backlog."
        widgets += [_text(f"{name}: backlog", note), _text(f"{name}: dead letters", note)]
    return widgets


def tile(x: int, y: int, widget: dict[str, Any]) -> dict[str, Any]:
    """A mosaic tile as the Monitoring API returns it: a position of 0 is omitted.

    The API serialises the dashboard with proto3's JSON mapping, which leaves out fields
    holding their default value, so a tile sent with ``"xPos": 0`` comes back without it
    and the provider shows an update on every ``pulumi up`` (terraform-provider-google
    #16173). Omitting the zeros sends exactly what comes back."""
    position = {key: value for key, value in (("xPos", x), ("yPos", y)) if value}
    return {**position, "width": TILE_WIDTH, "height": TILE_HEIGHT, "widget": widget}


def dashboard(plans: dict[str, AgentPlan], stack: str) -> dict[str, Any]:
    tiles = [
        tile(column * TILE_WIDTH, row * TILE_HEIGHT, widget)
        for row, name in enumerate(sorted(plans))
        for column, widget in enumerate(agent_widgets(plans[name]))
    ]
    return {
        "displayName": f"Switchboard agents ({stack})",
        "labels": {"switchboard": ""},
        "mosaicLayout": {"columns": COLUMNS, "tiles": tiles},
    }


def dashboard_json(plans: dict[str, AgentPlan], stack: str) -> str:
    return json.dumps(dashboard(plans, stack), sort_keys=True, separators=(",", ":"))
