"""Every alert a stack gets, as plain data (no Pulumi): what it watches and its threshold.

Per agent subscription: dead letters (anything in its dead-letter subscription) and
backlog (oldest unacked message age on its push subscription). Per agent: 5xx ratio and
p99 latency near the timeout (a 2nd-gen function's requests are its Cloud Run service's,
resource ``cloud_run_revision``). Per stack: permanent failures, matched in the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from infra.agent.plan import AgentPlan
from infra.monitoring import runbooks
from infra.monitoring.log_metrics import LABEL_EXTRACTORS, PERMANENT_FAILURES_FILTER
from infra.settings import StackSettings

Kind = Literal["dead-letters", "backlog", "errors", "latency", "permanent-failures"]

UNDELIVERED = "pubsub.googleapis.com/subscription/num_undelivered_messages"
OLDEST_UNACKED = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
REQUEST_COUNT = "run.googleapis.com/request_count"
REQUEST_LATENCIES = "run.googleapis.com/request_latencies"


@dataclass(frozen=True)
class AlertSpec:
    key: str
    """Pulumi resource name (unique in the stack)."""
    kind: Kind
    agent: str | None
    display_name: str
    metric: str
    threshold: float
    unit: str
    severity: Literal["CRITICAL", "ERROR", "WARNING"]
    condition: dict[str, Any]
    """A ``condition_threshold`` block (pulumi-gcp input names), or for a log-match alert
    a ``condition_matched_log`` block."""
    runbook: str
    meaning: str
    log_match: bool = False
    """True: ``condition`` is a ``condition_matched_log`` (fires on matching log entries,
    needs no metric, so nothing races a metric that is minutes away from existing)."""


def subscription_filter(metric: str, subscription_id: str) -> str:
    return (
        f'metric.type = "{metric}" AND resource.type = "pubsub_subscription" '
        f'AND resource.labels.subscription_id = "{subscription_id}"'
    )


def service_filter(metric: str, service: str, extra: str = "") -> str:
    text = (
        f'metric.type = "{metric}" AND resource.type = "cloud_run_revision" '
        f'AND resource.labels.service_name = "{service}"'
    )
    return f"{text} AND {extra}" if extra else text


def _gauge(filter_: str, threshold: float, duration: str) -> dict[str, Any]:
    return {
        "filter": filter_,
        "comparison": "COMPARISON_GT",
        "threshold_value": threshold,
        "duration": duration,
        "trigger": {"count": 1},
        "aggregations": [{"alignment_period": "60s", "per_series_aligner": "ALIGN_MAX"}],
    }


def _rate(window: str) -> list[dict[str, Any]]:
    return [
        {
            "alignment_period": window,
            "per_series_aligner": "ALIGN_RATE",
            "cross_series_reducer": "REDUCE_SUM",
            "group_by_fields": ["resource.label.service_name"],
        }
    ]


def plan_alerts(plans: dict[str, AgentPlan], settings: StackSettings) -> list[AlertSpec]:
    monitoring = settings.monitoring
    window = f"{monitoring.window_seconds}s"
    prefix = f"[switchboard {settings.stack}]"
    alerts: list[AlertSpec] = []
    for name in sorted(plans):
        plan = plans[name]
        limits = monitoring.for_agent(name)
        for consumer in plan.consumers:
            dead = consumer.dead_letter_subscription_id
            alerts.append(
                AlertSpec(
                    key=f"{consumer.subscription_id}-dead-letters",
                    kind="dead-letters",
                    agent=name,
                    display_name=f"{prefix} dead letters: {dead}",
                    metric=UNDELIVERED,
                    threshold=monitoring.dead_letter_threshold,
                    unit="messages",
                    severity="ERROR",
                    condition=_gauge(
                        subscription_filter(UNDELIVERED, dead),
                        monitoring.dead_letter_threshold,
                        "0s",
                    ),
                    runbook=runbooks.DEAD_LETTERS,
                    meaning=(
                        f"Messages for agent `{name}` on topic `{consumer.topic}` were given up "
                        f"on: after {consumer.spec.max_delivery_attempts} failed deliveries, "
                        "or acked as a permanent failure by the runtime, they were moved to "
                        f"dead-letter subscription `{dead}`. They stay there "
                        "(7 days) until inspected and redriven or discarded."
                    ),
                )
            )
            alerts.append(
                AlertSpec(
                    key=f"{consumer.subscription_id}-backlog",
                    kind="backlog",
                    agent=name,
                    display_name=f"{prefix} backlog: {consumer.subscription_id}",
                    metric=OLDEST_UNACKED,
                    threshold=limits.backlog_age_seconds,
                    unit="s",
                    severity="WARNING",
                    condition=_gauge(
                        subscription_filter(OLDEST_UNACKED, consumer.subscription_id),
                        limits.backlog_age_seconds,
                        window,
                    ),
                    runbook=runbooks.BACKLOG,
                    meaning=(
                        f"The oldest unacknowledged message on push subscription "
                        f"`{consumer.subscription_id}` (agent `{name}`, topic "
                        f"`{consumer.topic}`) is older than {limits.backlog_age_seconds}s: "
                        "the agent is failing, too slow, or capped at its max instances."
                    ),
                )
            )
        errors_filter = service_filter(
            REQUEST_COUNT, name, 'metric.labels.response_code_class = "5xx"'
        )
        alerts.append(
            AlertSpec(
                key=f"{name}-errors",
                kind="errors",
                agent=name,
                display_name=f"{prefix} 5xx ratio: {name}",
                metric=REQUEST_COUNT,
                threshold=limits.error_ratio,
                unit="ratio",
                severity="ERROR",
                condition={
                    "filter": errors_filter,
                    "denominator_filter": service_filter(REQUEST_COUNT, name),
                    "comparison": "COMPARISON_GT",
                    "threshold_value": limits.error_ratio,
                    "duration": window,
                    "trigger": {"count": 1},
                    "aggregations": _rate("60s"),
                    "denominator_aggregations": _rate("60s"),
                },
                runbook=runbooks.AGENT_ERRORS,
                meaning=(
                    f"More than {limits.error_ratio:.0%} of requests to agent `{name}` were "
                    f"answered 5xx for {monitoring.window_seconds}s. For a push subscriber a "
                    "5xx is a nack (transient failure: third party down, 429, timeout, "
                    "Firestore contention): Pub/Sub retries with backoff, then dead-letters."
                ),
            )
        )
        latency_ms = round(plan.timeout_seconds * 1000 * limits.latency_fraction_of_timeout)
        alerts.append(
            AlertSpec(
                key=f"{name}-latency",
                kind="latency",
                agent=name,
                display_name=f"{prefix} p99 latency near timeout: {name}",
                metric=REQUEST_LATENCIES,
                threshold=latency_ms,
                unit="ms",
                severity="WARNING",
                condition={
                    "filter": service_filter(REQUEST_LATENCIES, name),
                    "comparison": "COMPARISON_GT",
                    "threshold_value": latency_ms,
                    "duration": "0s",
                    "trigger": {"count": 1},
                    "aggregations": [
                        {
                            "alignment_period": window,
                            "per_series_aligner": "ALIGN_PERCENTILE_99",
                            "cross_series_reducer": "REDUCE_MAX",
                            "group_by_fields": ["resource.label.service_name"],
                        }
                    ],
                },
                runbook=runbooks.AGENT_ERRORS,
                meaning=(
                    f"p99 request latency of agent `{name}` over {monitoring.window_seconds}s "
                    f"exceeds {limits.latency_fraction_of_timeout:.0%} of its "
                    f"{plan.timeout_seconds}s timeout ({latency_ms} ms). Requests that hit "
                    "the timeout fail (and, pushed, are retried): a third party is slow, or "
                    "the timeout is too tight."
                ),
            )
        )
    # A log-match condition, not a threshold on the log-based metric: the Monitoring API
    # answers 404 for minutes after a log-based metric is created (terraform-provider-google
    # #11102), so an alert on it in the same first `pulumi up` fails. The metric stays, for
    # charts; the alert reads the logs directly and needs nothing created first.
    alerts.append(
        AlertSpec(
            key="permanent-failures",
            kind="permanent-failures",
            agent=None,
            display_name=f"{prefix} permanent failures",
            metric="log entries",
            threshold=0,
            unit="entries",
            severity="ERROR",
            log_match=True,
            condition={
                "filter": PERMANENT_FAILURES_FILTER,
                "label_extractors": dict(LABEL_EXTRACTORS),
            },
            runbook=runbooks.AGENT_ERRORS,
            meaning=(
                "An agent logged a permanent failure (bad input, a third party's 4xx, an event "
                "it does not handle): it was acked and recorded in the agent's dead-letter "
                "topic, not retried. Fires on the first such log line (label `agent` names "
                f"the agent), at most one notification per {monitoring.window_seconds}s."
            ),
        )
    )
    return alerts


def documentation(spec: AlertSpec, settings: StackSettings) -> dict[str, Any]:
    path = runbooks.runbook_path(spec.runbook)
    url = runbooks.runbook_url(spec.runbook, settings.monitoring.runbook_base_url)
    where = f"[{path}]({url})" if url else f"`{path}` in the Switchboard repository"
    condition = (
        "Condition: any matching log entry."
        if spec.log_match
        else f"Threshold: {spec.metric} > {spec.threshold:g} {spec.unit}."
    )
    content = (
        f"**What it means.** {spec.meaning}\n\n"
        f"**Stack** `{settings.stack}` (project `{settings.project}`). {condition}\n\n"
        f"**Runbook:** {where}"
    )
    doc: dict[str, Any] = {
        "content": content,
        "mime_type": "text/markdown",
        "subject": spec.display_name[:255],
    }
    if url:
        doc["links"] = [{"display_name": "Runbook", "url": url}]
    return doc
