"""The whole program under Pulumi mocks: what each stack declares, and how stacks differ."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest

from infra.agent.plan import plan_fleet
from infra.catalogue import load_catalogue, naming
from infra.offline.harness import Run, run_stack, run_under_mocks
from infra.offline.mocks import Registration
from tests.committed_renders import committed_run
from tests.infra.secrets.test_store import config_sourced
from tests.infra.test_settings import settings_for

SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
TOPIC = "gcp:pubsub/topic:Topic"


def rendered(stack: str) -> Run:
    return committed_run(stack)


def by_type(run: Run, token: str) -> dict[str, Registration]:
    return {r.name: r for r in run.of_type(token)}


def test_every_agent_has_identity_compute_and_subscriptions() -> None:
    run = rendered("dev")
    accounts = {r.inputs["accountId"] for r in run.of_type("gcp:serviceaccount/account:Account")}
    functions = set(by_type(run, "gcp:cloudfunctionsv2/function:Function"))
    services = set(by_type(run, "gcp:cloudrunv2/service:Service"))
    catalogue = load_catalogue()
    agents = catalogue.agents.values()
    assert functions == {a.name for a in agents if a.platform == "function"}
    assert services == {a.name for a in agents if a.platform == "run"}
    for agent in catalogue.agents:
        assert f"sb-{agent}" in accounts
    subscriptions = by_type(run, SUBSCRIPTION)
    topics = by_type(run, TOPIC)
    for consumer in catalogue.consumers():
        push = subscriptions[consumer.subscription_id].inputs
        assert push["filter"] == consumer.effective_filter
        assert consumer.spec.filter in push["filter"]
        assert push["ackDeadlineSeconds"] == consumer.spec.ack_deadline_seconds
        assert push["retryPolicy"] == {
            "minimumBackoff": f"{consumer.spec.retry.minimum_backoff_seconds}s",
            "maximumBackoff": f"{consumer.spec.retry.maximum_backoff_seconds}s",
        }
        assert push["expirationPolicy"] == {"ttl": ""}
        dead_letter = push["deadLetterPolicy"]
        assert dead_letter["maxDeliveryAttempts"] == consumer.spec.max_delivery_attempts
        assert dead_letter["deadLetterTopic"].endswith(f"/topics/{consumer.dead_letter_topic_id}")
        oidc = push["pushConfig"]["oidcToken"]
        assert oidc["serviceAccountEmail"].startswith(f"sb-{consumer.agent.name}-push@")
        assert oidc["audience"] == push["pushConfig"]["pushEndpoint"]
        assert push["pushConfig"]["pushEndpoint"].startswith(f"https://{consumer.agent.name}-")
        # the dead-letter topic exists and has its own (pull, never-expiring) subscription
        assert consumer.dead_letter_topic_id in topics
        pull = subscriptions[f"{consumer.dead_letter_subscription_id}-sub"].inputs
        assert pull["topic"].endswith(f"/topics/{consumer.dead_letter_topic_id}")
        assert "pushConfig" not in pull
        assert pull["expirationPolicy"] == {"ttl": ""}


def test_every_topic_a_subscription_dead_letters_to_has_a_subscription() -> None:
    run = rendered("staging")
    subscribed = {r.inputs["topic"] for r in run.of_type(SUBSCRIPTION)}
    for registration in run.of_type(SUBSCRIPTION):
        policy = registration.inputs.get("deadLetterPolicy")
        if policy:
            assert policy["deadLetterTopic"] in subscribed, registration.name


def test_filter_changes_are_explicit_replacements() -> None:
    run = rendered("dev")
    for registration in run.of_type(SUBSCRIPTION):
        assert registration.delete_before_replace, registration.name
        if "pushConfig" in registration.inputs:
            assert registration.replace_on_changes == ("filter",)


def member_symbol(member: str) -> str:
    if member == "allUsers":
        return "allUsers"
    email = member.removeprefix("serviceAccount:")
    if email.startswith("service-") and "gcp-sa-pubsub" in email:
        return "pubsub-service-agent"
    if email.startswith("service-") and "gcp-sa-firestore" in email:
        return "firestore-service-agent"
    account = email.split("@")[0]
    if account.endswith("-push"):
        return "invoker"
    if account == "sb-firestore-export":
        return "firestore-export"
    return "agent" if account != "sb-builder" else "builder"


def rendered_grants(run: Run) -> dict[str, set[tuple[str, str, str, str]]]:
    """Every IAM binding in the render, per agent (by the label-free resource name)."""
    per_agent: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    account_of = {
        r.outputs["name"]: r.inputs["accountId"]
        for r in run.of_type("gcp:serviceaccount/account:Account")
    }
    by_urn = {r.urn: r for r in run.registrations}
    for r in run.registrations:
        if not r.type.lower().endswith("iammember"):
            continue
        inputs: dict[str, Any] = r.inputs
        member = member_symbol(inputs["member"])
        if r.type == "gcp:pubsub/topicIAMMember:TopicIAMMember":
            key = ("topic", inputs["topic"])
        elif r.type == "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember":
            key = ("subscription", inputs["subscription"])
        elif r.type == "gcp:secretmanager/secretIamMember:SecretIamMember":
            key = ("secret", inputs["secretId"])
        elif r.type == "gcp:projects/iAMMember:IAMMember":
            key = (
                "project",
                "firestore" if inputs["role"] == "roles/datastore.user" else "project",
            )
        elif r.type == "gcp:cloudrunv2/serviceIamMember:ServiceIamMember":
            key = ("service", inputs["name"])
        elif r.type == "gcp:serviceaccount/iAMMember:IAMMember":
            key = ("service-account", account_of[inputs["serviceAccountId"]])
        else:
            key = (r.type, "")
        owner = _owner(r, by_urn, member)
        per_agent[owner].add((key[0], key[1], inputs["role"], member))
    return per_agent


def _owner(r: Registration, by_urn: dict[str, Registration], member: str) -> str:
    if member in ("builder", "firestore-export"):
        return member
    if member == "firestore-service-agent":
        return "firestore-export"  # it writes the export's files (infra/firestore/exports.py)
    node = by_urn.get(r.parent)
    while node is not None and node.type != "switchboard:agent:Agent":
        node = by_urn.get(node.parent)
    return node.name if node else "?"


def test_rendered_iam_is_exactly_the_planned_grants() -> None:
    run = rendered("prod")
    plans = plan_fleet(load_catalogue(), settings_for("prod"))
    grants = rendered_grants(run)
    for name, plan in plans.items():
        assert grants[name] == {g.key() for g in plan.grants}, name
    assert grants["builder"] == {
        ("project", "project", "roles/logging.logWriter", "builder"),
        # Cloud Functions' own copy of the archive (gcf-v2-sources-*), conditioned below
        ("project", "project", "roles/storage.objectViewer", "builder"),
        (
            "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
            "",
            "roles/artifactregistry.writer",
            "builder",
        ),
        (
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "",
            "roles/storage.objectViewer",
            "builder",
        ),
    }
    assert grants["firestore-export"] == {
        ("project", "project", "roles/datastore.importExportAdmin", "firestore-export"),
        (
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "",
            "roles/storage.legacyBucketWriter",
            "firestore-export",
        ),
        (
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "",
            "roles/storage.legacyBucketWriter",
            "firestore-service-agent",
        ),
    }
    assert set(grants) == {*plans, "builder", "firestore-export"}
    roles = {role for agent_grants in grants.values() for _, _, role, _ in agent_grants}
    assert not roles & {"roles/owner", "roles/editor", "roles/viewer"}


def test_the_build_account_reads_only_gcf_sources_buckets_project_wide() -> None:
    """terraform-provider-google #20571: gen2 builds fetch from gcf-v2-sources-<n>-<region>."""
    run = rendered("dev")
    reader = next(r for r in run.registrations if r.name == "builder-gcf-sources-reader")
    assert reader.inputs["role"] == "roles/storage.objectViewer"
    assert reader.inputs["condition"]["expression"] == (
        'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")'
    )
    for function in by_type(run, "gcp:cloudfunctionsv2/function:Function").values():
        assert reader.urn in function.dependencies, function.name


def test_ingress_is_internal_except_the_declared_public_agent() -> None:
    run = rendered("dev")
    for name, function in by_type(run, "gcp:cloudfunctionsv2/function:Function").items():
        assert function.inputs["serviceConfig"]["ingressSettings"] == "ALLOW_INTERNAL_ONLY", name
    gateway = by_type(run, "gcp:cloudrunv2/service:Service")["gateway"]
    assert gateway.inputs["ingress"] == "INGRESS_TRAFFIC_ALL"
    # Public through the service's disabled invoker check: no allUsers grant anywhere
    # (Domain Restricted Sharing refuses it in organisations created since 2024-05-03).
    assert gateway.inputs["invokerIamDisabled"] is True
    assert [r.name for r in run.registrations if r.inputs.get("member") == "allUsers"] == []
    for name, service in by_type(run, "gcp:cloudrunv2/service:Service").items():
        assert service.inputs["invokerIamDisabled"] is (name == "gateway"), name


def test_secrets_reach_agents_only_as_secret_env_vars() -> None:
    run = rendered("dev")
    scheduler = by_type(run, "gcp:cloudfunctionsv2/function:Function")["scheduler"]
    config = scheduler.inputs["serviceConfig"]
    assert config["secretEnvironmentVariables"] == [
        {
            "key": "GOOGLE_CALENDAR_CREDENTIALS",
            "projectId": "switchboard-dev-000000",
            "secret": "google-calendar-credentials",
            "version": "1",
        }
    ]
    assert "GOOGLE_CALENDAR_CREDENTIALS" not in config["environmentVariables"]
    gateway = by_type(run, "gcp:cloudrunv2/service:Service")["gateway"]
    envs = gateway.inputs["template"]["containers"][0]["envs"]
    secret_envs = {e["name"] for e in envs if "valueSource" in e}
    declared = load_catalogue().agent("gateway").secrets
    assert secret_envs == {naming.secret_env_var(secret) for secret in declared}
    assert all("value" not in e for e in envs if e["name"] in secret_envs)


def test_archive_object_is_named_by_content_hash() -> None:
    run = rendered("dev")
    objects = by_type(run, "gcp:storage/bucketObject:BucketObject")
    function = by_type(run, "gcp:cloudfunctionsv2/function:Function")["ledger"]
    storage = function.inputs["buildConfig"]["source"]["storageSource"]
    assert storage["object"] == objects["ledger-source"].inputs["name"]
    assert storage["object"].startswith("agents/ledger/")
    assert len(storage["object"].removeprefix("agents/ledger/").removesuffix(".zip")) == 20


def test_prod_differs_from_dev_where_the_stack_files_say() -> None:
    dev, prod = rendered("dev"), rendered("prod")
    dev_gateway = by_type(dev, "gcp:cloudrunv2/service:Service")["gateway"].inputs
    prod_gateway = by_type(prod, "gcp:cloudrunv2/service:Service")["gateway"].inputs
    assert dev_gateway["template"]["scaling"]["minInstanceCount"] == 0
    assert prod_gateway["template"]["scaling"]["minInstanceCount"] == 1
    assert dev_gateway["deletionProtection"] is False
    assert prod_gateway["deletionProtection"] is True
    for name, secret in by_type(prod, "gcp:secretmanager/secret:Secret").items():
        assert secret.protect, name
    assert not any(s.protect for s in dev.of_type("gcp:secretmanager/secret:Secret"))
    assert by_type(prod, "gcp:storage/bucket:Bucket")["agent-sources"].protect
    dev_ledger = by_type(dev, "gcp:cloudfunctionsv2/function:Function")["ledger"]
    assert dev_ledger.inputs["serviceConfig"]["environmentVariables"]["LOG_LEVEL"] == "DEBUG"
    topics = by_type(prod, TOPIC)
    assert topics["bookings"].inputs["messageRetentionDuration"] == "604800s"


@pytest.mark.slow
def test_secret_value_from_config_is_a_secret_version() -> None:
    run = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", "sk_test_123"))
    versions = run.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    assert [v.name for v in versions] == ["stripe-api-key-from-config"]
    data = versions[0].inputs["secretData"]
    assert pulumi.runtime.rpc.is_rpc_secret(data)  # stays a secret end to end


def test_unknown_agent_override_fails_before_any_resource() -> None:
    with pytest.raises(Exception, match=r"switchboard:agents\.nobody: no such agent") as caught:
        run_stack("dev", overrides={"switchboard:agents": {"nobody": {"minInstances": 1}}})
    assert caught.value is not None


def test_assertions_inside_apply_do_run_and_can_fail() -> None:
    """Prove once that an assertion inside ``.apply`` fails the test when it is false."""

    def program(expected: str) -> Any:
        topic = gcp.pubsub.Topic("probe", name="probe-topic", project="p-123456")

        def check(name: str) -> None:
            assert name == expected, f"{name} != {expected}"

        return topic.name.apply(check)

    run_under_mocks(lambda: program("probe-topic"), stack="dev", config={})
    with pytest.raises(AssertionError, match="probe-topic != something-else"):
        run_under_mocks(lambda: program("something-else"), stack="dev", config={})
