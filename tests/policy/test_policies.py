"""The policy pack's pure rules over the offline render: every stack passes, and one
deliberately bad resource per policy is caught with a message naming it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalogue import FUNCTIONS_DIR
from infra.offline.harness import REPO_ROOT
from policy.switchboard_policies import POLICIES, Context, Resource, run_policies
from policy.switchboard_policies.__main__ import main as policy_cli
from policy.switchboard_policies.renders import manifest_context, resources_from_manifest
from policy.switchboard_policies.sources import public_agents
from tests.tools.conftest import fresh_render
from tools.render.manifest import STACKS

SUB = "gcp:pubsub/subscription:Subscription"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
RUN = "gcp:cloudrunv2/service:Service"
RUN_IAM = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"


def stack_resources(stack: str) -> tuple[list[Resource], Context]:
    manifest = fresh_render(stack)
    resources = resources_from_manifest(manifest)
    return resources, manifest_context(manifest, resources, FUNCTIONS_DIR)


def find(resources: list[Resource], rtype: str, name: str) -> Resource:
    return next(r for r in resources if r.type == rtype and r.name == name)


def replace(resources: list[Resource], old: Resource, **props: Any) -> list[Resource]:
    new_props = copy.deepcopy(dict(old.props))
    for key, value in props.items():
        if value is None:
            new_props.pop(key, None)
        else:
            new_props[key] = value
    new = Resource(old.type, old.name, new_props, old.protect, old.id)
    return [new if r is old else r for r in resources]


def violations(resources: list[Resource], context: Context) -> list[tuple[str, str, str]]:
    return [(v.policy, v.resource, v.message) for v in run_policies(resources, context).violations]


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_stack_passes(stack: str) -> None:
    resources, context = stack_resources(stack)
    assert context.stack == stack
    assert context.public_services == {"gateway"}
    assert violations(resources, context) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_committed_manifest_passes(stack: str) -> None:
    manifest = json.loads((REPO_ROOT / "rendered" / f"{stack}.json").read_text())
    resources = resources_from_manifest(manifest)
    report = run_policies(resources, manifest_context(manifest, resources, FUNCTIONS_DIR))
    assert report.violations == ()


def test_all_invoker_on_an_internal_agent_is_caught_naming_it() -> None:
    resources, context = stack_resources("dev")
    bad = Resource(
        RUN_IAM,
        "ledger-public-invoker",
        {"name": "ledger", "role": "roles/run.invoker", "member": "allUsers", "project": "p"},
        id=f"{RUN_IAM}::ledger-public-invoker",
    )
    found = violations([*resources, bad], context)
    assert len(found) == 1
    policy, resource, message = found[0]
    assert policy == "no-public-members"
    assert resource == f"{RUN_IAM}::ledger-public-invoker"
    assert "name ledger" in message and "allUsers" in message


def test_all_users_is_refused_even_on_the_public_agent() -> None:
    """The gateway is public through its disabled invoker check, never allUsers (Domain
    Restricted Sharing refuses it): reintroducing the old grant fails the pack."""
    resources, context = stack_resources("prod")
    assert "gateway" in context.public_services
    for member in ("allUsers", "allAuthenticatedUsers"):
        bad = Resource(
            RUN_IAM,
            "gateway-public-invoker",
            {"name": "gateway", "role": "roles/run.invoker", "member": member, "project": "p"},
            id=f"{RUN_IAM}::gateway-public-invoker",
        )
        found = violations([*resources, bad], context)
        assert [(p, r) for p, r, _ in found] == [
            ("no-public-members", f"{RUN_IAM}::gateway-public-invoker")
        ]
        assert "Domain Restricted Sharing" in found[0][2]


def test_only_a_declared_public_agent_disables_the_invoker_check() -> None:
    resources, context = stack_resources("staging")
    gateway = find(resources, RUN, "gateway")
    assert gateway.props["invokerIamDisabled"] is True
    assert violations(resources, context) == []
    internal = Resource(RUN, "ledger", {**gateway.props, "name": "ledger"}, id=f"{RUN}::ledger")
    found = violations([*resources, internal], context)
    assert [(p, r) for p, r, _ in found if p != "one-service-account-per-agent"] == [
        ("invoker-check-only-on-public-agents", f"{RUN}::ledger")
    ]
    unreasoned = Context(stack=context.stack, public_services=frozenset())
    assert ("invoker-check-only-on-public-agents", f"{RUN}::gateway") in {
        (p, r) for p, r, _ in violations(resources, unreasoned)
    }


def test_an_agent_public_without_a_reason_is_not_public_to_the_pack(tmp_path: Path) -> None:
    for name, reason in (("a", "webhooks verified"), ("b", " "), ("c", None)):
        (tmp_path / name).mkdir()
        document = {"ingress": "public", **({"public_reason": reason} if reason else {})}
        (tmp_path / name / "agent.yaml").write_text(yaml.safe_dump(document))
    assert public_agents(tmp_path) == {"a"}


def _sub(resources: list[Resource], name: str = "scheduler-on-bookings") -> Resource:
    return find(resources, SUB, name)


BAD_SUBSCRIPTIONS = [
    ("push-subscription-oidc", {"pushConfig": {"pushEndpoint": "https://x"}}),
    ("push-subscription-dead-letter", {"deadLetterPolicy": None}),
    (
        "push-subscription-dead-letter",
        {"deadLetterPolicy": {"deadLetterTopic": "t", "maxDeliveryAttempts": 200}},
    ),
    ("push-subscription-retry-policy", {"retryPolicy": None}),
    ("subscription-never-expires", {"expirationPolicy": {"ttl": "2678400s"}}),
    ("subscription-never-expires", {"expirationPolicy": None}),
]


@pytest.mark.parametrize(("policy", "props"), BAD_SUBSCRIPTIONS)
def test_bad_subscription_is_caught(policy: str, props: dict[str, Any]) -> None:
    resources, context = stack_resources("dev")
    found = violations(replace(resources, _sub(resources), **props), context)
    assert {(p, r) for p, r, _ in found} >= {(policy, f"{SUB}::scheduler-on-bookings")}
    assert all("scheduler-on-bookings" in m for p, _, m in found if p == policy)


def test_dead_letter_topic_without_subscription_is_caught() -> None:
    resources, context = stack_resources("dev")
    orphaned = [r for r in resources if r.name != "notifier-on-notifications-dead-letter-sub"]
    found = violations(orphaned, context)
    assert [(p, r) for p, r, _ in found] == [
        ("dead-letter-topic-has-subscription", f"{SUB}::notifier-on-notifications")
    ]


@pytest.mark.parametrize(
    ("policy", "resource"),
    [
        (
            "no-primitive-roles",
            Resource(PROJECT_IAM, "x", {"role": "roles/editor", "member": "user:a@b.c"}),
        ),
        (
            "no-primitive-roles",
            Resource(
                "gcp:pubsub/topicIAMBinding:TopicIAMBinding",
                "x",
                {"topic": "t", "role": "roles/owner", "members": ["group:g@b.c"]},
            ),
        ),
        (
            "no-public-members",
            Resource(
                "gcp:pubsub/topicIAMMember:TopicIAMMember",
                "x",
                {"topic": "bookings", "role": "roles/pubsub.publisher", "member": "allUsers"},
            ),
        ),
        (
            "no-public-members",
            Resource(
                RUN_IAM,
                "x",
                {"name": "gateway", "role": "roles/run.admin", "member": "allAuthenticatedUsers"},
            ),
        ),
        (
            "no-project-token-creator",
            Resource(
                PROJECT_IAM,
                "x",
                {"role": "roles/iam.serviceAccountTokenCreator", "member": "serviceAccount:s@p"},
            ),
        ),
    ],
)
def test_bad_iam_is_caught(policy: str, resource: Resource) -> None:
    resources, context = stack_resources("dev")
    found = violations([*resources, resource], context)
    assert [(p, r) for p, r, _ in found] == [(policy, resource.label)]


def test_plain_secret_env_is_caught_on_functions_and_services() -> None:
    resources, context = stack_resources("dev")
    billing = find(resources, FUNCTION, "billing")
    config = copy.deepcopy(dict(billing.props["serviceConfig"]))
    config["environmentVariables"]["STRIPE_API_KEY"] = "whatever"
    config["environmentVariables"]["HARMLESS"] = "sk_live_abc"
    resources = replace(resources, billing, serviceConfig=config)
    gateway = find(resources, RUN, "gateway")
    template = copy.deepcopy(dict(gateway.props["template"]))
    template["containers"][0]["envs"].append({"name": "DB_PASSWORD", "value": "hunter2"})
    resources = replace(resources, gateway, template=template)
    found = violations(resources, context)
    assert {p for p, _, _ in found} == {"no-plain-secret-env"}
    messages = " ".join(m for _, _, m in found)
    assert "STRIPE_API_KEY" in messages and "HARMLESS" in messages and "DB_PASSWORD" in messages


def test_missing_max_instances_is_caught() -> None:
    resources, context = stack_resources("dev")
    ledger = find(resources, FUNCTION, "ledger")
    config = {k: v for k, v in ledger.props["serviceConfig"].items() if k != "maxInstanceCount"}
    found = violations(replace(resources, ledger, serviceConfig=config), context)
    assert [(p, r) for p, r, _ in found] == [("max-instances-set", f"{FUNCTION}::ledger")]


def test_shared_or_default_service_account_is_caught() -> None:
    resources, context = stack_resources("dev")
    ledger, notifier = find(resources, FUNCTION, "ledger"), find(resources, FUNCTION, "notifier")
    shared = dict(notifier.props["serviceConfig"])
    shared["serviceAccountEmail"] = ledger.props["serviceConfig"]["serviceAccountEmail"]
    found = violations(replace(resources, notifier, serviceConfig=shared), context)
    assert sorted(r for _, r, _ in found) == [f"{FUNCTION}::ledger", f"{FUNCTION}::notifier"]
    assert {p for p, _, _ in found} == {"one-service-account-per-agent"}
    default = {k: v for k, v in shared.items() if k != "serviceAccountEmail"}
    found = violations(replace(resources, notifier, serviceConfig=default), context)
    assert [(p, r) for p, r, _ in found] == [
        ("one-service-account-per-agent", f"{FUNCTION}::notifier")
    ]


def test_prod_requires_deletion_protection() -> None:
    resources, context = stack_resources("prod")
    service = find(resources, "gcp:cloudrunv2/service:Service", "gateway")
    unprotected = Resource(
        service.type, service.name, {**service.props, "deletionProtection": False}
    )
    resources = [unprotected if r is service else r for r in resources]
    found = violations(resources, context)
    assert [(p, r) for p, r, _ in found] == [
        ("prod-deletion-protection", "gcp:cloudrunv2/service:Service::gateway")
    ]
    dev_resources, dev_context = stack_resources("dev")
    assert violations(dev_resources, dev_context) == []  # dev is not protected, by design


def test_prod_firestore_backups_skip_then_enforce() -> None:
    resources, context = stack_resources("prod")
    firestore = ("gcp:firestore/database:Database", "gcp:firestore/backupSchedule:BackupSchedule")
    resources = [r for r in resources if r.type not in firestore]
    report = run_policies(resources, context)
    notes = [n.message for n in report.notes if n.policy == "prod-firestore-backups"]
    assert notes and "no gcp:firestore/database:Database" in notes[0]
    database = Resource(
        "gcp:firestore/database:Database",
        "firestore",
        {"name": "(default)", "deleteProtectionState": "DELETE_PROTECTION_ENABLED"},
        protect=True,
    )
    found = violations([*resources, database], context)
    assert [(p, r) for p, r, _ in found] == [
        ("prod-firestore-backups", "gcp:firestore/database:Database::firestore")
    ]
    schedule = Resource(
        "gcp:firestore/backupSchedule:BackupSchedule",
        "daily",
        {"database": "(default)", "retention": "604800s", "dailyRecurrence": {}},
    )
    assert violations([*resources, database, schedule], context) == []


def test_catalogue_public_agents_and_policy_list() -> None:
    assert public_agents(FUNCTIONS_DIR) == {"gateway"}
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names)) == 14
    assert all(p.description for p in POLICIES)


def test_policy_cli_over_committed_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_cli([]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (0 violations") == len(STACKS)
