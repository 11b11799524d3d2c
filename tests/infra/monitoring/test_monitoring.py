"""Alerts, the log-based metric and the dashboard, per stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.agent.plan import plan_fleet
from infra.catalogue import load_catalogue
from infra.monitoring.alerts import plan_alerts
from infra.monitoring.dashboard import dashboard_json
from infra.monitoring.log_metrics import PERMANENT_FAILURES_FILTER
from infra.monitoring.runbooks import ALL, RUNBOOK_DIR
from infra.offline.harness import REPO_ROOT, Run, run_stack
from infra.offline.mocks import Registration
from tests.infra.test_program import rendered
from tests.infra.test_settings import expect_error, settings_for

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"


def policies(run: Run) -> dict[str, Registration]:
    return {r.name: r for r in run.of_type(POLICY)}


def condition(policy: Registration) -> dict[str, Any]:
    (only,) = policy.inputs["conditions"]
    return only["conditionThreshold"]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_subscription_has_a_dead_letter_and_a_backlog_alert(stack: str) -> None:
    found = policies(rendered(stack))
    consumers = list(load_catalogue().consumers())
    assert consumers
    backlog = settings_for(stack).monitoring
    for consumer in consumers:
        dead = condition(found[f"{consumer.subscription_id}-dead-letters"])
        assert "pubsub.googleapis.com/subscription/num_undelivered_messages" in dead["filter"]
        assert (
            f'resource.labels.subscription_id = "{consumer.dead_letter_subscription_id}"'
            in dead["filter"]
        )
        assert dead["comparison"] == "COMPARISON_GT"
        assert dead["thresholdValue"] == 0
        assert dead["duration"] == "0s"
        age = condition(found[f"{consumer.subscription_id}-backlog"])
        assert "subscription/oldest_unacked_message_age" in age["filter"]
        assert f'subscription_id = "{consumer.subscription_id}"' in age["filter"]
        assert age["thresholdValue"] == backlog.for_agent(consumer.agent.name).backlog_age_seconds


def test_backlog_thresholds_differ_per_stack_and_per_agent_override() -> None:
    def age(stack: str, key: str) -> float:
        return condition(policies(rendered(stack))[key])["thresholdValue"]

    assert age("dev", "billing-on-bookings-backlog") == 1800
    assert age("staging", "billing-on-bookings-backlog") == 900
    assert age("prod", "billing-on-bookings-backlog") == 300
    assert age("prod", "reminders-on-ticks-backlog") == 1200  # per-agent override


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_agent_has_error_ratio_and_latency_alerts(stack: str) -> None:
    found = policies(rendered(stack))
    settings = settings_for(stack)
    catalogue = load_catalogue()
    for agent in catalogue.agents:
        errors = condition(found[f"{agent}-errors"])
        assert 'metric.labels.response_code_class = "5xx"' in errors["filter"]
        assert f'resource.labels.service_name = "{agent}"' in errors["filter"]
        assert 'resource.type = "cloud_run_revision"' in errors["filter"]
        assert "response_code_class" not in errors["denominatorFilter"]
        assert errors["thresholdValue"] == settings.monitoring.error_ratio
        latency = condition(found[f"{agent}-latency"])
        assert "run.googleapis.com/request_latencies" in latency["filter"]
        assert latency["aggregations"][0]["perSeriesAligner"] == "ALIGN_PERCENTILE_99"
        timeout_ms = catalogue.agent(agent).timeout_seconds * 1000
        fraction = settings.monitoring.latency_fraction_of_timeout
        assert latency["thresholdValue"] == round(timeout_ms * fraction)
    assert condition(found["reminders-latency"])["thresholdValue"] == (
        96000 if stack == "prod" else 108000
    )


def test_alerts_notify_the_stack_channel_and_link_their_runbook() -> None:
    run = rendered("prod")
    (channel,) = run.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["type"] == "email"
    assert channel.inputs["labels"] == {"email_address": "switchboard-oncall@example.com"}
    channel_name = channel.outputs["name"]
    for name, policy in policies(run).items():
        assert policy.inputs["notificationChannels"] == [channel_name], name
        doc = policy.inputs["documentation"]
        assert doc["mimeType"] == "text/markdown"
        assert "**What it means.**" in doc["content"]
        assert f"`{RUNBOOK_DIR}/" in doc["content"], name
        assert policy.inputs["alertStrategy"]["autoClose"] == "86400s"


@pytest.mark.slow
def test_runbook_base_url_turns_into_links() -> None:
    base = "https://github.com/example/switchboard/blob/main/docs/runbooks"
    run = run_stack(
        "staging",
        overrides={
            "switchboard:monitoring": {"runbookBaseUrl": base + "/", "backlogAgeSeconds": 900}
        },
    )
    policy = policies(run)["notifier-on-notifications-dead-letters"]
    doc = policy.inputs["documentation"]
    assert doc["links"] == [{"displayName": "Runbook", "url": f"{base}/dead-letters.md"}]
    assert f"({base}/dead-letters.md)" in doc["content"]


def test_every_runbook_an_alert_cites_exists() -> None:
    for name in ALL:
        assert (REPO_ROOT / RUNBOOK_DIR / f"{name}.md").is_file(), name
    cited = {
        policy.inputs["documentation"]["content"].split(f"`{RUNBOOK_DIR}/")[1].split("`")[0]
        for policy in policies(rendered("dev")).values()
    }
    for file in cited:
        assert (REPO_ROOT / RUNBOOK_DIR / file).is_file(), file


def test_permanent_failures_log_metric_and_its_alert() -> None:
    run = rendered("dev")
    (metric,) = run.of_type("gcp:logging/metric:Metric")
    assert metric.inputs["filter"] == PERMANENT_FAILURES_FILTER
    assert 'jsonPayload.outcome=("permanent_failure"' in metric.inputs["filter"]
    assert metric.inputs["labelExtractors"]["agent"] == "EXTRACT(jsonPayload.agent)"
    assert metric.inputs["metricDescriptor"]["metricKind"] == "DELTA"
    alert = policies(run)["permanent-failures"]
    # The alert matches the logs itself: it neither reads nor waits for the metric, which
    # the Monitoring API does not know for minutes after it is created.
    assert metric.urn not in alert.dependencies
    (block,) = alert.inputs["conditions"]
    assert "conditionThreshold" not in block
    assert block["conditionMatchedLog"]["filter"] == PERMANENT_FAILURES_FILTER
    assert block["conditionMatchedLog"]["labelExtractors"]["agent"] == "EXTRACT(jsonPayload.agent)"
    assert "switchboard-permanent-failures" not in json.dumps(alert.inputs)
    assert alert.inputs["alertStrategy"]["notificationRateLimit"] == {"period": "600s"}


def test_alert_plan_is_complete_and_keys_are_unique() -> None:
    catalogue = load_catalogue()
    settings = settings_for("staging")
    plans = plan_fleet(catalogue, settings)
    specs = plan_alerts(plans, settings)
    consumers = len(list(catalogue.consumers()))
    assert len(specs) == 2 * consumers + 2 * len(plans) + 1
    assert len({s.key for s in specs}) == len(specs)
    assert len(policies(rendered("staging"))) == len(specs)


def test_dashboard_shows_every_agent_and_is_deterministic() -> None:
    run = rendered("prod")
    (dashboard,) = run.of_type("gcp:monitoring/dashboard:Dashboard")
    text = dashboard.inputs["dashboardJson"]
    plans = plan_fleet(load_catalogue(), settings_for("prod"))
    assert text == dashboard_json(plans, "prod")
    assert (
        text
        == rendered("prod").of_type("gcp:monitoring/dashboard:Dashboard")[0].inputs["dashboardJson"]
    )
    document = json.loads(text)
    tiles = document["mosaicLayout"]["tiles"]
    assert len(tiles) == 5 * len(plans)
    titles = [t["widget"]["title"] for t in tiles]
    for agent in plans:
        for what in ("requests/s", "5xx/s", "p99 latency", "backlog", "dead letters"):
            assert any(t.startswith(f"{agent}: ") and what in t for t in titles), (agent, what)
    filters = " ".join(
        data_set["timeSeriesQuery"]["timeSeriesFilter"]["filter"]
        for tile in tiles
        for data_set in tile["widget"].get("xyChart", {}).get("dataSets", [])
    )
    for consumer in load_catalogue().consumers():
        assert f'"{consumer.subscription_id}"' in filters
        assert f'"{consumer.dead_letter_subscription_id}"' in filters
    assert all(t.get("xPos", 0) + t["width"] <= document["mosaicLayout"]["columns"] for t in tiles)
    positions = [(t.get("xPos", 0), t.get("yPos", 0)) for t in tiles]
    assert len(set(positions)) == len(positions), "two tiles share a position"


def test_dashboard_tiles_carry_no_zero_position() -> None:
    """The Monitoring API omits a zero position (proto3 JSON), so a tile that sends one
    diffs on every `pulumi up` (terraform-provider-google #16173)."""
    plans = plan_fleet(load_catalogue(), settings_for("dev"))
    tiles = json.loads(dashboard_json(plans, "dev"))["mosaicLayout"]["tiles"]
    assert any("xPos" not in t for t in tiles) and any("yPos" not in t for t in tiles)
    for t in tiles:
        assert t.get("xPos", 1) != 0 and t.get("yPos", 1) != 0, t


@pytest.mark.parametrize(
    ("monitoring", "key", "fragment"),
    [
        ({"errorRatio": 1.5}, "switchboard:monitoring.errorRatio", "less than or equal to 1"),
        ({"backlogAgeSeconds": 10}, "switchboard:monitoring.backlogAgeSeconds", "greater than"),
        (
            {"agents": {"ledger": {"latencyFractionOfTimeout": 0}}},
            "switchboard:monitoring.agents.ledger.latencyFractionOfTimeout",
            "greater than 0",
        ),
        ({"pagerDuty": "x"}, "switchboard:monitoring.pagerDuty", "unknown key"),
        ({"runbookBaseUrl": "docs/x"}, "switchboard:monitoring.runbookBaseUrl", "pattern"),
    ],
)
def test_bad_monitoring_values_name_their_key(
    monitoring: dict[str, Any], key: str, fragment: str
) -> None:
    expect_error("dev", key, fragment, **{"switchboard:monitoring": monitoring})


def test_threshold_override_for_an_unknown_agent_fails_before_any_resource() -> None:
    with pytest.raises(Exception, match=r"switchboard:monitoring\.agents\.nobody: no such agent"):
        run_stack(
            "dev", overrides={"switchboard:monitoring": {"agents": {"nobody": {"errorRatio": 0.5}}}}
        )
