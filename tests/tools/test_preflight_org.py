"""The preflight's organisation rules (tools/preflight/org_rules.py): each modelled
constraint fires on a real render broken for it, relaxing it silences it, and the gen2
build's bucket rule fires when the build account cannot read gcf-v2-sources-*."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.catalogue import load_catalogue
from infra.offline.harness import REPO_ROOT
from infra.org_policies import (
    BASELINE,
    DOMAIN_RESTRICTED_SHARING,
    MODELLED,
    NO_DEFAULT_SA_GRANTS,
    PUBLIC_ACCESS_PREVENTION,
    REQUIRE_INVOKER_IAM,
)
from infra.settings import OrganizationPolicySettings
from tests.tools.conftest import fresh_render
from tests.tools.test_preflight import Manifest, broken, resource, rules_fired
from tools.preflight.__main__ import PreflightInputError, main, stack_facts
from tools.preflight.graph import Render
from tools.preflight.org_rules import MODELLED_BY_RULE, ORG_RULES
from tools.preflight.rules import Finding, StackFacts, check
from tools.render.manifest import STACKS
from tools.render.normalise import UNKNOWN  # how a render records a value a preview lacks

GATEWAY_IAM = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember::gateway-public-invoker"
BUILDER = "sb-builder@switchboard-dev-000000.iam.gserviceaccount.com"
FUNCTIONS = sorted(n for n, a in load_catalogue().agents.items() if a.platform == "function")


def add(manifest: Manifest, type_: str, name: str, inputs: dict[str, Any]) -> str:
    """A resource added to a render, waiting for every API (so only the rule under test
    fires)."""
    node_id = f"{type_}::{name}"
    apis = [r["id"] for r in manifest["resources"] if r["type"] == "gcp:projects/service:Service"]
    manifest["resources"].append(
        {
            "id": node_id,
            "type": type_,
            "name": name,
            "custom": True,
            "parent": None,
            "dependencies": apis,
            "inputs": inputs,
        }
    )
    return node_id


@cache
def base_facts(stack: str) -> StackFacts:
    return stack_facts(stack)


def with_org(stack: str, mutate: Any, **organization: Any) -> list[Finding]:
    manifest = copy.deepcopy(fresh_render(stack))
    mutate(manifest)
    base = base_facts(stack)
    facts = StackFacts(
        base.external_secrets,
        base.secrets_provider,
        base.archive_requirements,
        OrganizationPolicySettings(**organization),
    )
    return check(Render.from_manifest(manifest), facts)


def public_gateway(manifest: Manifest) -> None:
    """Problem 3 reintroduced: the old allUsers grant on the gateway."""
    add(
        manifest,
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
        "gateway-public-invoker",
        {"member": "allUsers", "name": "gateway", "role": "roles/run.invoker"},
    )


# --- gcf-v2-sources -------------------------------------------------------------------


def test_functions_whose_builder_cannot_read_gcf_sources_are_caught() -> None:
    def no_reader(manifest: Manifest) -> None:
        manifest["resources"] = [
            r for r in manifest["resources"] if r["name"] != "builder-gcf-sources-reader"
        ]

    fired = rules_fired(broken("dev", no_reader))
    assert {r for rule, r in fired if rule == "gcf-sources-readable"} == {
        f"gcp:cloudfunctionsv2/function:Function::{name}" for name in FUNCTIONS
    }


def test_a_condition_that_admits_another_bucket_does_not_count() -> None:
    def elsewhere(manifest: Manifest) -> None:
        reader = resource(manifest, "IAMMember", "builder-gcf-sources-reader")
        reader["inputs"]["condition"]["expression"] = (
            'resource.name.startsWith("projects/_/buckets/switchboard-staging-000000-agent")'
        )

    assert ("gcf-sources-readable", "gcp:cloudfunctionsv2/function:Function::ledger") in (
        rules_fired(broken("staging", elsewhere))
    )


def test_a_function_that_does_not_wait_for_the_grant_is_caught() -> None:
    def no_wait(manifest: Manifest) -> None:
        ledger = resource(manifest, "Function", "ledger")
        ledger["dependencies"] = [
            d
            for d in ledger["dependencies"]
            if "gcf-sources" not in d and not d.endswith("builder-grants-propagated")
        ]

    findings = [f for f in broken("prod", no_wait) if f.rule == "gcf-sources-readable"]
    assert [(f.resource, "does not wait" in f.problem) for f in findings] == [
        ("gcp:cloudfunctionsv2/function:Function::ledger", True)
    ]


def test_a_grant_on_the_gcf_bucket_itself_counts() -> None:
    def bucket_grant(manifest: Manifest) -> None:
        manifest["resources"] = [
            r for r in manifest["resources"] if r["name"] != "builder-gcf-sources-reader"
        ]
        grant = add(
            manifest,
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            "gcf-bucket-reader",
            {
                "bucket": "gcf-v2-sources-123456789012-europe-west1",
                "member": f"serviceAccount:{BUILDER}",
                "role": "roles/storage.objectViewer",
            },
        )
        for r in manifest["resources"]:
            if r["type"].endswith("Function"):
                r["dependencies"].append(grant)

    assert not [f for f in broken("dev", bucket_grant) if f.rule == "gcf-sources-readable"]


def _unknown_builder(manifest: Manifest) -> None:
    """The render a first preview gives: the build account's email is not known yet."""
    for r in manifest["resources"]:
        config = r["inputs"].get("buildConfig")
        if r["type"].endswith("Function") and config:
            config["serviceAccount"] = UNKNOWN
        if r["inputs"].get("member") == f"serviceAccount:{BUILDER}":
            r["inputs"]["member"] = UNKNOWN


def test_in_a_preview_the_unknown_build_account_is_matched_to_unknown_members() -> None:
    assert not [f for f in broken("dev", _unknown_builder) if f.rule == "gcf-sources-readable"]

    def unknown_and_no_reader(manifest: Manifest) -> None:
        _unknown_builder(manifest)
        manifest["resources"] = [
            r for r in manifest["resources"] if r["name"] != "builder-gcf-sources-reader"
        ]

    fired = {r for rule, r in rules_fired(broken("dev", unknown_and_no_reader)) if "gcf" in rule}
    assert len(fired) == len(FUNCTIONS)


# --- organisation policies ------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_passes_under_the_secure_by_default_policies_and_every_addition(
    stack: str,
) -> None:
    assert with_org(stack, lambda m: None) == []
    other = with_org(stack, lambda m: None, add=[REQUIRE_INVOKER_IAM])
    assert rules_fired(other) == {
        (f"org:{REQUIRE_INVOKER_IAM}", "gcp:cloudrunv2/service:Service::gateway")
    }


def test_reintroducing_all_users_fails_preflight() -> None:
    findings = with_org("prod", public_gateway)
    assert rules_fired(findings) == {(f"org:{DOMAIN_RESTRICTED_SHARING}", GATEWAY_IAM)}
    assert "invoker IAM check" in findings[0].fix
    assert with_org("prod", public_gateway, relax=[DOMAIN_RESTRICTED_SHARING]) == []


def test_domain_restricted_sharing_checks_named_principals_against_the_domains() -> None:
    def outsider(manifest: Manifest) -> None:
        add(
            manifest,
            "gcp:projects/iAMMember:IAMMember",
            "contractor",
            {"member": "user:someone@gmail.com", "role": "roles/run.viewer"},
        )

    rule = f"org:{DOMAIN_RESTRICTED_SHARING}"
    target = "gcp:projects/iAMMember:IAMMember::contractor"
    assert (rule, target) in rules_fired(with_org("dev", outsider))
    assert (rule, target) in rules_fired(with_org("dev", outsider, allowed_domains=["example.com"]))
    assert with_org("dev", outsider, allowed_domains=["gmail.com"]) == []


@pytest.mark.parametrize(
    ("constraint", "type_", "inputs"),
    [
        (
            "iam.disableServiceAccountKeyCreation",
            "gcp:serviceaccount/key:Key",
            {"serviceAccountId": "sb-builder"},
        ),
        (
            "iam.disableServiceAccountKeyUpload",
            "gcp:serviceaccount/key:Key",
            {"serviceAccountId": "sb-builder", "publicKeyData": "LS0tLS1CRUdJTg=="},
        ),
        (
            "essentialcontacts.allowedContactDomains",
            "gcp:essentialcontacts/contact:Contact",
            {"email": "ops@gmail.com", "parent": "projects/p"},
        ),
        (
            "storage.uniformBucketLevelAccess",
            "gcp:storage/bucketACL:BucketACL",
            {"bucket": "b", "roleEntities": ["OWNER:user-ops@example.com"]},
        ),
        (
            PUBLIC_ACCESS_PREVENTION,
            "gcp:storage/bucketIAMMember:BucketIAMMember",
            {"bucket": "b", "member": "allAuthenticatedUsers", "role": "roles/storage.admin"},
        ),
    ],
)
def test_a_resource_the_constraint_refuses_is_caught_and_relaxing_it_silences_it(
    constraint: str, type_: str, inputs: dict[str, Any]
) -> None:
    target = f"{type_}::refused"

    def refused(manifest: Manifest) -> None:
        add(manifest, type_, "refused", inputs)

    assert (f"org:{constraint}", target) in rules_fired(with_org("staging", refused))
    everything_else = [c for c in BASELINE if c != constraint]
    assert (f"org:{constraint}", target) not in rules_fired(
        with_org("staging", refused, relax=[constraint])
    )
    org_only = [
        f for f in with_org("staging", refused, relax=everything_else) if f.rule.startswith("org:")
    ]
    assert rules_fired(org_only) == {(f"org:{constraint}", target)}


def test_a_bucket_without_uniform_access_is_caught() -> None:
    def fine_grained(manifest: Manifest) -> None:
        resource(manifest, "Bucket", "agent-sources")["inputs"]["uniformBucketLevelAccess"] = False

    assert (
        "org:storage.uniformBucketLevelAccess",
        "gcp:storage/bucket:Bucket::agent-sources",
    ) in rules_fired(with_org("dev", fine_grained))


def test_running_or_building_as_a_default_service_account_is_caught() -> None:
    def defaults(manifest: Manifest) -> None:
        del resource(manifest, "Function", "notifier")["inputs"]["buildConfig"]["serviceAccount"]
        gateway = resource(manifest, "Service", "gateway")["inputs"]["template"]
        gateway["serviceAccount"] = "123456789012-compute@developer.gserviceaccount.com"

    findings = [f for f in with_org("dev", defaults) if f.rule == f"org:{NO_DEFAULT_SA_GRANTS}"]
    assert {(f.resource, f.problem.split(" as ")[0]) for f in findings} == {
        ("gcp:cloudfunctionsv2/function:Function::notifier", "builds"),
        ("gcp:cloudrunv2/service:Service::gateway", "runs"),
    }
    assert not [
        f
        for f in with_org("dev", defaults, relax=[NO_DEFAULT_SA_GRANTS])
        if f.rule.startswith("org:")
    ]


def test_every_modelled_constraint_has_its_rule_and_every_rule_its_test() -> None:
    assert set(MODELLED_BY_RULE) == set(MODELLED)
    assert set(MODELLED_BY_RULE.values()) <= set(ORG_RULES)
    assert len(ORG_RULES) == 8  # gcf sources + 7 rules for 8 constraints (keys share one)


# --- the stack setting ----------------------------------------------------------------


def _stack_copy(tmp_path: Path, policies: dict[str, Any]) -> Path:
    document = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["switchboard:organizationPolicies"] = policies
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


def test_the_stack_file_says_what_the_organisation_relaxes_and_adds(tmp_path: Path) -> None:
    root = _stack_copy(tmp_path, {"relax": ["iam.allowedPolicyMemberDomains"], "add": []})
    facts = stack_facts("dev", root=root, archives={})
    assert DOMAIN_RESTRICTED_SHARING not in facts.organization.enforced()
    assert set(stack_facts("dev", archives={}).organization.enforced()) == set(BASELINE)


def test_an_unknown_constraint_is_a_clear_error(tmp_path: Path) -> None:
    root = _stack_copy(tmp_path, {"relax": ["iam.allowedPolicyMembers"]})
    with pytest.raises(PreflightInputError, match=r"relax: unknown constraint 'iam\.allowed"):
        stack_facts("dev", root=root, archives={})


@pytest.mark.slow
def test_the_command_fails_on_a_render_with_all_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    manifest = copy.deepcopy(fresh_render("dev"))
    public_gateway(manifest)
    (tmp_path / "dev.json").write_text(json.dumps(manifest))
    assert main(["dev", "--rendered", str(tmp_path)]) == 1
    assert f"[org:{DOMAIN_RESTRICTED_SHARING}] {GATEWAY_IAM}" in capsys.readouterr().out
