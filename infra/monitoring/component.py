"""Notification channel, log-based metric, alert policies and the dashboard of a stack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.agent.plan import AgentPlan
from infra.monitoring.alerts import AlertSpec, documentation, plan_alerts
from infra.monitoring.dashboard import dashboard_json
from infra.monitoring.log_metrics import (
    LABEL_EXTRACTORS,
    PERMANENT_FAILURES_FILTER,
    PERMANENT_FAILURES_METRIC,
)
from infra.settings import StackSettings


@dataclass(frozen=True)
class MonitoringArgs:
    settings: StackSettings
    plans: Mapping[str, AgentPlan]
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class Monitoring(pulumi.ComponentResource):
    """Alerts go to the stack's ``alertEmail``; each one's documentation says what it means
    and links its runbook. Alert specs come from :func:`infra.monitoring.alerts.plan_alerts`."""

    channel: gcp.monitoring.NotificationChannel
    alerts: dict[str, gcp.monitoring.AlertPolicy]
    specs: list[AlertSpec]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:monitoring:Monitoring", name, None, opts)
        settings = args.settings
        project = settings.project
        deps = list(args.depends_on)
        labels = dict(args.labels)
        self.channel = gcp.monitoring.NotificationChannel(
            "alert-email",
            project=project,
            display_name=f"Switchboard {settings.stack} alerts",
            type="email",
            labels={"email_address": settings.alert_email},
            user_labels=labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.permanent_failures = gcp.logging.Metric(
            PERMANENT_FAILURES_METRIC,
            project=project,
            name=PERMANENT_FAILURES_METRIC,
            description="Permanent failures the agent runtime logged (acked, dead-lettered).",
            filter=PERMANENT_FAILURES_FILTER,
            label_extractors=LABEL_EXTRACTORS,
            metric_descriptor={
                "metric_kind": "DELTA",
                "value_type": "INT64",
                "unit": "1",
                "display_name": "Switchboard permanent failures",
                "labels": [
                    {"key": "agent", "value_type": "STRING", "description": "agent name"},
                    {"key": "outcome", "value_type": "STRING", "description": "runtime outcome"},
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.specs = plan_alerts(dict(args.plans), settings)
        self.alerts = {}
        for spec in self.specs:
            condition_kind = "condition_matched_log" if spec.log_match else "condition_threshold"
            strategy: dict[str, object] = {
                "auto_close": f"{settings.monitoring.auto_close_seconds}s"
            }
            if spec.log_match:  # required for log-match alerts: one notification per window
                strategy["notification_rate_limit"] = {
                    "period": f"{settings.monitoring.window_seconds}s"
                }
            self.alerts[spec.key] = gcp.monitoring.AlertPolicy(
                spec.key,
                project=project,
                display_name=spec.display_name,
                combiner="OR",
                severity=spec.severity,
                conditions=[{"display_name": spec.display_name, condition_kind: spec.condition}],
                notification_channels=[self.channel.name],
                alert_strategy=strategy,
                documentation=documentation(spec, settings),
                user_labels={
                    **labels,
                    "alert": spec.kind,
                    **({"agent": spec.agent} if spec.agent else {}),
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )
        self.dashboard = gcp.monitoring.Dashboard(
            "agents-dashboard",
            project=project,
            dashboard_json=dashboard_json(dict(args.plans), settings.stack),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.register_outputs(
            {
                "channel": self.channel.name,
                "alerts": sorted(self.alerts),
                "dashboard": self.dashboard.id,
            }
        )
