"""Cost guards: instance caps, no warm instances outside prod, budget, log retention."""

from __future__ import annotations

import pytest

from infra.offline.harness import run_stack
from tests.infra.test_program import rendered
from tests.infra.test_settings import expect_error

BUDGET = "gcp:billing/budget:Budget"
BILLING_ACCOUNT = "012345-6789AB-CDEF01"


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_keep_warm_outside_prod_names_the_key(stack: str) -> None:
    expect_error(
        stack,
        "switchboard:instances.keepWarm",
        "must be false outside prod",
        **{"switchboard:instances": {"keepWarm": True, "maxCap": 3}},
    )


def test_min_instances_override_outside_prod_fails_before_any_resource() -> None:
    with pytest.raises(
        Exception, match=r"switchboard:agents\.gateway\.minInstances: must be 0 outside prod"
    ):
        run_stack("staging", overrides={"switchboard:agents": {"gateway": {"minInstances": 1}}})


def test_outside_prod_nothing_stays_warm_and_caps_hold() -> None:
    for stack, cap in (("dev", 3), ("staging", 10), ("prod", 50)):
        run = rendered(stack)
        for fn in run.of_type("gcp:cloudfunctionsv2/function:Function"):
            config = fn.inputs["serviceConfig"]
            assert config["maxInstanceCount"] <= cap
            if stack != "prod":
                assert config["minInstanceCount"] == 0
        for service in run.of_type("gcp:cloudrunv2/service:Service"):
            template = service.inputs["template"]
            assert template["scaling"]["maxInstanceCount"] <= cap
            if stack != "prod":
                assert template["scaling"]["minInstanceCount"] == 0
            # CPU only while serving requests (request-based billing)
            assert template["containers"][0]["resources"]["cpuIdle"] is True


def test_log_retention_per_stack() -> None:
    for stack, days in (("dev", 7), ("staging", 30), ("prod", 90)):
        (bucket,) = rendered(stack).of_type("gcp:logging/projectBucketConfig:ProjectBucketConfig")
        assert bucket.inputs["bucketId"] == "_Default"
        assert bucket.inputs["location"] == "global"
        assert bucket.inputs["retentionDays"] == days


def test_no_budget_without_a_billing_account() -> None:
    for stack in ("dev", "staging", "prod"):
        assert rendered(stack).of_type(BUDGET) == []
        services = {
            r.inputs["service"] for r in rendered(stack).of_type("gcp:projects/service:Service")
        }
        assert "billingbudgets.googleapis.com" not in services


@pytest.mark.slow
def test_budget_alerts_at_fifty_ninety_and_hundred_percent() -> None:
    run = run_stack(
        "staging",
        overrides={"switchboard:budget": {"billingAccount": BILLING_ACCOUNT, "amount": 250}},
    )
    (budget,) = run.of_type(BUDGET)
    inputs = budget.inputs
    assert inputs["billingAccount"] == BILLING_ACCOUNT
    assert [r["thresholdPercent"] for r in inputs["thresholdRules"]] == [0.5, 0.9, 1.0]
    assert inputs["amount"] == {"specifiedAmount": {"currencyCode": "EUR", "units": "250"}}
    assert inputs["budgetFilter"]["projects"] == ["projects/123456789012"]
    (channel,) = run.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert inputs["allUpdatesRule"]["monitoringNotificationChannels"] == [channel.outputs["name"]]
    services = {r.inputs["service"] for r in run.of_type("gcp:projects/service:Service")}
    assert "billingbudgets.googleapis.com" in services


def test_bad_billing_account_names_the_key() -> None:
    expect_error(
        "dev",
        "switchboard:budget.billingAccount",
        "should match pattern",
        **{"switchboard:budget": {"billingAccount": "not-an-account"}},
    )


def test_log_retention_out_of_range_names_the_key() -> None:
    expect_error(
        "dev",
        "switchboard:logging.retentionDays",
        "less than or equal to 3650",
        **{"switchboard:logging": {"retentionDays": 5000}},
    )
