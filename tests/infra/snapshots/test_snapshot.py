"""The per-deploy configuration snapshot: content, naming, determinism, no secret values."""

from __future__ import annotations

import json
import re

import pytest
from pulumi.runtime import rpc

from infra.agent.plan import plan_fleet
from infra.catalogue import load_catalogue
from infra.offline.harness import Run, run_stack
from infra.offline.mocks import Registration
from infra.snapshots import object_name, render, snapshot
from tests.infra.secrets.test_store import config_sourced
from tests.infra.test_program import rendered
from tests.infra.test_settings import settings_for

OBJECT = "gcp:storage/bucketObject:BucketObject"
SECRET_VALUE = "sk_test_do_not_leak_4242"


def snapshot_object(run: Run) -> Registration:
    return run.named("deploy-snapshot", OBJECT)


def content_of(run: Run) -> str:
    """pulumi-gcp marks ``BucketObject.content`` secret whatever it holds; unwrap it."""
    content = snapshot_object(run).inputs["content"]
    return rpc.unwrap_rpc_secret(content) if rpc.is_rpc_secret(content) else content


def test_snapshot_object_is_named_by_the_hash_of_its_content() -> None:
    obj = snapshot_object(rendered("dev"))
    content = content_of(rendered("dev"))
    assert obj.inputs["name"] == object_name(content)
    assert re.fullmatch(r"deploys/[0-9a-f]{32}\.json", obj.inputs["name"])
    assert obj.inputs["contentType"] == "application/json"
    assert obj.retain_on_delete  # the next deploy's snapshot does not delete this one
    assert obj.inputs["bucket"] == "switchboard-dev-000000-deploy-snapshots"


def test_snapshot_holds_the_resolved_catalogue_and_settings() -> None:
    document = json.loads(content_of(rendered("prod")))
    assert document["stack"] == "prod"
    assert document["settings"]["deletionProtection"] is True
    assert document["settings"]["firestore"]["backups"]["weeklyRetentionWeeks"] == 14
    agents = document["catalogue"]["agents"]
    catalogue = load_catalogue()
    assert set(agents) == set(catalogue.agents)
    for consumer in catalogue.consumers():
        subscriptions = {s["id"]: s for s in agents[consumer.agent.name]["subscriptions"]}
        assert subscriptions[consumer.subscription_id]["effectiveFilter"] == (
            consumer.effective_filter
        )
    # the reference fleet's prod overrides and platforms
    assert agents["gateway"]["deployed"]["minInstances"] == 1
    assert agents["gateway"]["manifest"]["platform"] == "run"
    assert agents["ledger"]["deployed"]["archive"].startswith("agents/ledger/")
    assert set(document["catalogue"]["secrets"]) == set(catalogue.secrets)


@pytest.mark.slow
def test_content_is_deterministic_sorted_and_has_no_timestamps() -> None:
    first = content_of(rendered("staging"))
    second = content_of(run_stack("staging"))
    assert first == second
    assert first == render(json.loads(first))  # sorted keys, stable formatting
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", first)


def test_a_settings_change_is_a_new_snapshot() -> None:
    catalogue = load_catalogue()
    before, after = settings_for("dev"), settings_for("dev", **{"switchboard:logLevel": "INFO"})
    names = [
        object_name(render(snapshot(s, catalogue, plan_fleet(catalogue, s), {})))
        for s in (before, after)
    ]
    assert names[0] != names[1]


@pytest.mark.slow
def test_secret_values_never_reach_the_snapshot() -> None:
    run = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", SECRET_VALUE))
    content = content_of(run)
    assert SECRET_VALUE not in content
    assert json.loads(content)["settings"]["secretsFromConfig"] == ["stripe-api-key"]


def test_snapshot_bucket_is_versioned_private_and_protected_in_prod() -> None:
    for stack in ("dev", "prod"):
        bucket = rendered(stack).named("deploy-snapshots", "gcp:storage/bucket:Bucket")
        assert bucket.inputs["versioning"] == {"enabled": True}
        assert bucket.inputs["uniformBucketLevelAccess"] is True
        assert bucket.inputs["publicAccessPrevention"] == "enforced"
        assert bucket.protect is (stack == "prod")
