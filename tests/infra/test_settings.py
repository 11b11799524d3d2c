"""Stack settings: the three stacks parse, differ where they should, and errors name keys."""

from __future__ import annotations

from typing import Any

import pytest

from infra.offline.harness import stack_config
from infra.settings import SettingsError, StackSettings, parse_settings


def settings_for(stack: str, **changes: Any) -> StackSettings:
    config = stack_config(stack)
    config.update(changes)
    return parse_settings(stack, config)


def test_three_stacks_target_their_own_projects() -> None:
    projects = {settings_for(s).project for s in ("dev", "staging", "prod")}
    assert len(projects) == 3


def test_dev_is_cheap_and_prod_is_protected() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert dev.environment == "dev" and prod.environment == "prod"
    assert dev.instances.keep_warm is False and prod.instances.keep_warm is True
    assert dev.instances.max_cap < prod.instances.max_cap
    assert dev.deletion_protection is False and prod.deletion_protection is True
    assert dev.log_level == "DEBUG" and prod.log_level == "INFO"
    assert dev.firestore.backups.weekly_retention_weeks == 0
    assert prod.firestore.backups.weekly_retention_weeks == 14
    assert prod.firestore.point_in_time_recovery is True
    assert dev.alert_email != prod.alert_email


def expect_error(stack: str, key: str, fragment: str, **changes: Any) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(stack, **changes)
    lines = [line for line in str(caught.value).splitlines() if line.startswith("  - ")]
    assert any(line.startswith(f"  - {key}: ") and fragment in line for line in lines), lines


def test_daily_retention_of_eight_days_names_the_key() -> None:
    firestore = stack_config("prod")["switchboard:firestore"]
    firestore["backups"]["dailyRetentionDays"] = 8
    expect_error(
        "prod",
        "switchboard:firestore.backups.dailyRetentionDays",
        "less than or equal to 7",
        **{"switchboard:firestore": firestore},
    )


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("switchboard:logLevel", "LOUD", "Input should be"),
        ("switchboard:alertEmail", "not-an-email", "should match pattern"),
        ("switchboard:topicMessageRetention", "40d", "not a duration"),
        ("switchboard:topicMessageRetention", "99999999s", "between 600s"),
        ("switchboard:defaultMemory", "16", "not a memory size"),
        ("switchboard:bogusKey", "1", "unknown key"),
        ("gcp:project", "Bad_Project", "should match pattern"),
    ],
)
def test_wrong_values_name_their_key(key: str, value: Any, fragment: str) -> None:
    expect_error("dev", key, fragment, **{key: value})


def test_missing_value_names_its_key() -> None:
    config = stack_config("dev")
    del config["switchboard:alertEmail"]
    with pytest.raises(SettingsError, match=r"switchboard:alertEmail: required but not set"):
        parse_settings("dev", config)


def test_prod_without_deletion_protection_is_refused() -> None:
    expect_error(
        "prod",
        "switchboard:deletionProtection",
        "must be true in prod",
        **{"switchboard:deletionProtection": False},
    )


def test_structured_values_arrive_as_json_strings_from_the_engine() -> None:
    settings = parse_settings(
        "dev",
        {
            "gcp:project": "switchboard-dev-1",
            "gcp:region": "europe-west1",
            "switchboard:environment": "dev",
            "switchboard:alertEmail": "a@example.com",
            "switchboard:instances": '{"keepWarm": false, "maxCap": 2}',
            "switchboard:deletionProtection": "false",
        },
    )
    assert settings.instances.max_cap == 2
    assert settings.deletion_protection is False


ORG = "switchboard:organizationPolicies"


def test_every_stack_assumes_the_whole_secure_by_default_bundle() -> None:
    from infra.org_policies import BASELINE

    for stack in ("dev", "staging", "prod"):
        assert settings_for(stack).organization_policies.enforced() == frozenset(BASELINE)


def test_an_organisation_relaxes_and_adds_known_constraints() -> None:
    settings = settings_for(
        "dev",
        **{
            ORG: {
                "relax": ["constraints/iam.allowedPolicyMemberDomains"],
                "add": ["run.managed.requireInvokerIam"],
                "allowedDomains": ["example.com"],
            }
        },
    )
    enforced = settings.organization_policies.enforced()
    assert "iam.allowedPolicyMemberDomains" not in enforced
    assert "run.managed.requireInvokerIam" in enforced


@pytest.mark.parametrize(
    ("policies", "key", "fragment"),
    [
        ({"relax": ["iam.allowedPolicyMembers"]}, "relax", "unknown constraint"),
        ({"relax": ["run.managed.requireInvokerIam"]}, "relax", "unknown constraint"),
        ({"add": ["compute.vmExternalIpAccess"]}, "add", "unknown constraint"),
        ({"add": ["storage.publicAccessPrevention"]}, "add", "already enforced by default"),
        ({"relax": ["iam.disableServiceAccountKeyCreation"] * 51}, "relax", "at most 50"),
        ({"allowedDomains": ["Example.COM"]}, "allowedDomains.0", "should match pattern"),
        ({"enforce": []}, "enforce", "unknown key"),
    ],
)
def test_a_bad_organisation_policy_setting_names_the_key(
    policies: dict[str, Any], key: str, fragment: str
) -> None:
    expect_error("staging", f"{ORG}.{key}", fragment, **{ORG: policies})


def test_flow_logs_and_data_access_audit_are_where_prod_asks() -> None:
    prod, staging = settings_for("prod"), settings_for("staging")
    assert prod.network.flow_logs and not staging.network.flow_logs
    assert prod.firestore.exports.audit_data_access
    assert not staging.firestore.exports.audit_data_access
    assert prod.firestore.exports.lock_retention_policy
    assert not staging.firestore.exports.lock_retention_policy
