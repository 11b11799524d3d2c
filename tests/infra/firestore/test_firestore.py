"""The Firestore database, its backups, exports, TTL policies and indexes, per stack."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import load_catalogue
from infra.firestore.schema import TTL_FIELDS, UNINDEXED_FIELDS
from infra.offline.harness import Run, run_stack, stack_config
from infra.offline.mocks import Registration
from tests.infra.test_program import rendered
from tests.infra.test_settings import expect_error

DATABASE = "gcp:firestore/database:Database"
SCHEDULE = "gcp:firestore/backupSchedule:BackupSchedule"
JOB = "gcp:cloudscheduler/job:Job"
BUCKET = "gcp:storage/bucket:Bucket"
DAY = 86400
REPO = Path(__file__).resolve().parents[3]
GCP_MAX_BACKUP_RETENTION = 14 * 7 * DAY


def database(run: Run) -> Registration:
    (registration,) = run.of_type(DATABASE)
    return registration


def schedules(run: Run) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in run.of_type(SCHEDULE)}


@pytest.mark.slow
def test_every_stack_has_the_default_native_database_at_its_location() -> None:
    for stack in ("dev", "staging", "prod"):
        inputs = database(rendered(stack)).inputs
        assert inputs["name"] == "(default)"
        assert inputs["type"] == "FIRESTORE_NATIVE"
        assert inputs["locationId"] == stack_config(stack)["switchboard:firestore"]["location"]
        assert inputs["appEngineIntegrationMode"] == "DISABLED"


def test_prod_database_is_protected_three_ways_and_dev_is_disposable() -> None:
    prod, dev = database(rendered("prod")), database(rendered("dev"))
    assert prod.protect
    assert prod.inputs["deleteProtectionState"] == "DELETE_PROTECTION_ENABLED"
    assert prod.inputs["deletionPolicy"] == "PREVENT"
    assert prod.inputs["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert not dev.protect
    assert dev.inputs["deleteProtectionState"] == "DELETE_PROTECTION_DISABLED"
    assert dev.inputs["deletionPolicy"] == "DELETE"
    assert dev.inputs["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_DISABLED"


def test_backup_schedules_follow_each_stack_within_gcp_limits() -> None:
    assert schedules(rendered("dev")) == {
        "firestore-daily-backups": {
            "project": "switchboard-dev-000000",
            "database": "(default)",
            "retention": f"{2 * DAY}s",
            "dailyRecurrence": {},
        }
    }
    staging = schedules(rendered("staging"))
    assert staging["firestore-daily-backups"]["retention"] == f"{7 * DAY}s"
    assert staging["firestore-weekly-backups"]["retention"] == f"{4 * 7 * DAY}s"
    prod = schedules(rendered("prod"))
    assert prod["firestore-daily-backups"]["retention"] == f"{7 * DAY}s"
    assert prod["firestore-weekly-backups"]["retention"] == f"{14 * 7 * DAY}s"
    assert prod["firestore-weekly-backups"]["weeklyRecurrence"] == {"day": "SUNDAY"}
    for stack in ("dev", "staging", "prod"):
        found = schedules(rendered(stack)).values()
        assert sum("dailyRecurrence" in s for s in found) <= 1
        assert sum("weeklyRecurrence" in s for s in found) <= 1
        for schedule in found:
            seconds = int(schedule["retention"].removesuffix("s"))
            assert 0 < seconds <= GCP_MAX_BACKUP_RETENTION
            if "dailyRecurrence" in schedule:
                assert seconds <= 7 * DAY


def _firestore_with(stack: str, **changes: Any) -> dict[str, Any]:
    firestore = json.loads(json.dumps(stack_config(stack)["switchboard:firestore"]))
    for path, value in changes.items():
        node = firestore
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return {"switchboard:firestore": firestore}


def test_daily_retention_beyond_seven_days_names_the_key() -> None:
    expect_error(
        "dev",
        "switchboard:firestore.backups.dailyRetentionDays",
        "less than or equal to 7",
        **_firestore_with("dev", **{"backups.dailyRetentionDays": 8}),
    )


def test_weekly_retention_beyond_fourteen_weeks_names_the_key() -> None:
    expect_error(
        "prod",
        "switchboard:firestore.backups.weeklyRetentionWeeks",
        "less than or equal to 14",
        **_firestore_with("prod", **{"backups.weeklyRetentionWeeks": 15}),
    )


def test_export_retention_policy_cannot_outlive_the_lifecycle_rule() -> None:
    expect_error(
        "staging",
        "switchboard:firestore.exports.minimumRetentionDays",
        "must not exceed retentionDays (30)",
        **_firestore_with("staging", **{"exports.minimumRetentionDays": 31}),
    )


def test_bad_export_schedule_names_the_key() -> None:
    expect_error(
        "dev",
        "switchboard:firestore.exports.schedule",
        "five-field unix-cron",
        **_firestore_with("dev", **{"exports.schedule": "daily"}),
    )


def test_bad_export_time_zone_names_the_key() -> None:
    expect_error(
        "dev",
        "switchboard:firestore.exports.timeZone",
        "not an IANA time zone",
        **_firestore_with("dev", **{"exports.timeZone": "Mars/Olympus"}),
    )


def test_prod_without_point_in_time_recovery_is_refused() -> None:
    expect_error(
        "prod",
        "switchboard:firestore.pointInTimeRecovery",
        "must be true in prod",
        **_firestore_with("prod", pointInTimeRecovery=False),
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"backups.dailyRetentionDays": 0}, "switchboard:firestore.backups.dailyRetentionDays"),
        ({"exports.enabled": False}, "switchboard:firestore.exports.enabled"),
    ],
)
def test_prod_cannot_switch_off_backups_or_exports(change: dict[str, Any], key: str) -> None:
    expect_error("prod", key, "in prod", **_firestore_with("prod", **change))


def test_export_job_calls_the_firestore_api_as_its_own_identity() -> None:
    for stack in ("dev", "staging", "prod"):
        run = rendered(stack)
        project = stack_config(stack)["gcp:project"]
        job = run.named("firestore-export", JOB).inputs
        target = job["httpTarget"]
        assert target["uri"] == (
            f"https://firestore.googleapis.com/v1/projects/{project}"
            "/databases/(default):exportDocuments"
        )
        assert target["httpMethod"] == "POST"
        assert target["oauthToken"]["serviceAccountEmail"] == (
            f"sb-firestore-export@{project}.iam.gserviceaccount.com"
        )
        assert "oidcToken" not in target
        body = json.loads(base64.b64decode(target["body"]))
        assert body == {"outputUriPrefix": f"gs://{project}-firestore-exports"}
        assert job["schedule"] == "0 3 * * *"


def test_export_bucket_is_private_expires_exports_and_holds_them_in_prod() -> None:
    expected = {"dev": (7, None), "staging": (30, 7), "prod": (365, 30)}
    for stack, (days, minimum) in expected.items():
        bucket = rendered(stack).named("firestore-exports", BUCKET)
        inputs = bucket.inputs
        assert inputs["uniformBucketLevelAccess"] is True
        assert inputs["publicAccessPrevention"] == "enforced"
        assert inputs["location"] == "EU"  # near eur3
        assert inputs["lifecycleRules"] == [
            {"action": {"type": "Delete"}, "condition": {"age": days}}
        ]
        if minimum is None:
            assert "retentionPolicy" not in inputs
        else:
            assert inputs["retentionPolicy"] == {
                "retentionPeriod": str(minimum * DAY),
                "isLocked": stack == "prod",  # Bucket Lock: prod asks for it explicitly
            }
        assert bucket.protect is (stack == "prod")
        assert inputs["forceDestroy"] is (stack != "prod")


def test_locking_the_retention_policy_is_explicit_and_needs_a_policy() -> None:
    assert stack_config("prod")["switchboard:firestore"]["exports"]["lockRetentionPolicy"]
    staging = rendered("staging").named("firestore-exports", BUCKET).inputs
    assert staging["retentionPolicy"]["isLocked"] is False
    expect_error(
        "dev",
        "switchboard:firestore.exports.lockRetentionPolicy",
        "needs minimumRetentionDays > 0",
        **_firestore_with("dev", **{"exports.lockRetentionPolicy": True}),
    )


AUDIT = "gcp:projects/iAMAuditConfig:IAMAuditConfig"


def test_prod_logs_who_reads_or_writes_an_export() -> None:
    for stack in ("dev", "staging", "prod"):
        audits = rendered(stack).of_type(AUDIT)
        if stack != "prod":
            assert audits == []
            continue
        (audit,) = audits
        assert audit.inputs["service"] == "storage.googleapis.com"
        assert audit.inputs["auditLogConfigs"] == [
            {"logType": "DATA_READ"},
            {"logType": "DATA_WRITE"},
        ]


def test_the_firestore_service_agent_may_write_the_export_bucket() -> None:
    """The export's Cloud Storage calls run as the Firestore service agent (export guide,
    "Service agent permissions"); the job waits for its grant and the caller's."""
    run = rendered("staging")
    agent = run.named("firestore-service-agent", "gcp:projects/serviceIdentity:ServiceIdentity")
    assert agent.inputs["service"] == "firestore.googleapis.com"
    writer = run.named("firestore-agent-writer", "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert writer.inputs["member"] == f"serviceAccount:{agent.outputs['email']}"
    assert writer.inputs["role"] == "roles/storage.legacyBucketWriter"
    assert writer.inputs["bucket"] == "switchboard-staging-000000-firestore-exports"
    job = run.named("firestore-export", JOB)
    assert writer.urn in job.dependencies
    assert run.named("firestore-export-admin", "gcp:projects/iAMMember:IAMMember").urn in (
        job.dependencies
    )


@pytest.mark.slow
def test_exports_can_be_switched_off() -> None:
    run = run_stack("dev", overrides=_firestore_with("dev", **{"exports.enabled": False}))
    assert [j.name for j in run.of_type(JOB)] == ["reminders-tick"]
    assert "firestore-exports" not in {b.name for b in run.of_type(BUCKET)}


def test_ttl_policies_and_composite_index() -> None:
    run = rendered("staging")
    fields = {
        (r.inputs["collection"], r.inputs["field"]): r.inputs
        for r in run.of_type("gcp:firestore/field:Field")
    }
    ttl = {(t.collection, t.field) for t in TTL_FIELDS}
    unindexed = {(u.collection, u.field) for u in UNINDEXED_FIELDS}
    assert ("processed_events", "expires_at") in ttl
    assert not ttl & unindexed
    assert set(fields) == ttl | unindexed
    for key, inputs in fields.items():
        assert inputs["database"] == "(default)"
        assert inputs["indexConfig"] == {}, key  # no single-field index: not a write hotspot
        if key in ttl:
            assert inputs["ttlConfig"] == {}
        else:
            assert "ttlConfig" not in inputs, key
    (index,) = run.of_type("gcp:firestore/index:Index")
    assert index.inputs["collection"] == "bookings"
    assert index.inputs["queryScope"] == "COLLECTION"
    assert index.inputs["fields"] == [
        {"fieldPath": "status", "order": "ASCENDING"},
        {"fieldPath": "starts_at", "order": "ASCENDING"},
    ]


def test_unindexed_claim_timestamps_are_written_and_never_queried() -> None:
    """An exempted field is one the claim really writes, and no agent filters or orders on it
    (a query on it would fail in GCP once its single-field index is gone)."""
    runtime = REPO / "functions" / "shared" / "switchboard_runtime" / "idempotency.py"
    claim_source = runtime.read_text()
    sources = [p.read_text() for p in (REPO / "functions").rglob("*.py")]
    for field in UNINDEXED_FIELDS:
        assert field.collection == "processed_events"
        assert f'"{field.field}":' in claim_source, field
        for source in sources:
            query = rf"(?:FieldFilter|where|order_by)\(\s*[\"']{field.field}[\"']"
            assert not re.search(query, source), field


def test_agents_and_firestore_children_depend_on_the_database() -> None:
    run = rendered("dev")
    urn = database(run).urn
    workloads = run.of_type("gcp:cloudfunctionsv2/function:Function") + run.of_type(
        "gcp:cloudrunv2/service:Service"
    )
    assert len(workloads) == len(load_catalogue().agents)
    for workload in workloads:
        assert urn in workload.dependencies, workload.name
    for token in (SCHEDULE, "gcp:firestore/field:Field", "gcp:firestore/index:Index"):
        for child in run.of_type(token):
            assert urn in child.dependencies, child.name
    assert urn in run.named("firestore-export", JOB).dependencies


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_children_are_parented_to_their_components(stack: str) -> None:
    run = rendered(stack)
    parents = {r.urn: r.type for r in run.registrations}
    for token in (DATABASE, SCHEDULE, "gcp:firestore/field:Field", "gcp:firestore/index:Index"):
        for r in run.of_type(token):
            assert parents[r.parent] == "switchboard:firestore:FirestoreDatabase"
    for r in (run.named("firestore-export", JOB), run.named("firestore-exports", BUCKET)):
        assert parents[r.parent] == "switchboard:firestore:FirestoreExports"
