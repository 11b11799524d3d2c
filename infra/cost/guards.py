"""A billing budget (when the stack names a billing account) and ``_Default`` log retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.settings import StackSettings

DEFAULT_LOG_BUCKET = "_Default"
BUDGET_API = "billingbudgets.googleapis.com"


@dataclass(frozen=True)
class CostGuardsArgs:
    settings: StackSettings
    notification_channel: pulumi.Input[str] | None = None
    """Full channel name (``projects/.../notificationChannels/...``) budget alerts go to."""
    depends_on: Sequence[pulumi.Resource] = ()


def budget_thresholds(settings: StackSettings) -> list[float]:
    return sorted(set(settings.budget.thresholds))


class CostGuards(pulumi.ComponentResource):
    budget: gcp.billing.Budget | None
    log_bucket: gcp.logging.ProjectBucketConfig

    def __init__(
        self, name: str, args: CostGuardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:cost:CostGuards", name, None, opts)
        settings = args.settings
        deps = list(args.depends_on)
        self.log_bucket = gcp.logging.ProjectBucketConfig(
            "default-log-retention",
            project=settings.project,
            location="global",
            bucket_id=DEFAULT_LOG_BUCKET,
            retention_days=settings.logging.retention_days,
            description=(
                f"Switchboard {settings.stack}: logs kept {settings.logging.retention_days} days"
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        self.budget = None
        budget = settings.budget
        if budget.billing_account:
            project = gcp.organizations.get_project_output(project_id=settings.project)
            updates: dict[str, object] = {"disable_default_iam_recipients": False}
            if args.notification_channel is not None:
                updates["monitoring_notification_channels"] = [args.notification_channel]
            self.budget = gcp.billing.Budget(
                "monthly-budget",
                billing_account=budget.billing_account,
                display_name=f"switchboard-{settings.stack}",
                budget_filter={
                    "projects": [project.number.apply(lambda n: f"projects/{n}")],
                    "calendar_period": "MONTH",
                },
                amount={
                    "specified_amount": {
                        "currency_code": budget.currency_code,
                        "units": str(budget.amount),
                    }
                },
                threshold_rules=[
                    {"threshold_percent": t, "spend_basis": "CURRENT_SPEND"}
                    for t in budget_thresholds(settings)
                ],
                all_updates_rule=updates,
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )
        self.register_outputs({"log_retention_days": settings.logging.retention_days})
