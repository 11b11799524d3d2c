"""The whole bootstrap program under mocks: what it declares, and what it must never."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bootstrap.switchboard_bootstrap.roles import (
    IMPERSONATION_ROLE,
    PRIMITIVE_ROLES,
    ROLE_REASONS,
    deployer_roles,
    previewer_roles,
)
from infra.offline.harness import Run
from infra.offline.mocks import Registration
from tests.bootstrap.harness import example_config, run_bootstrap

BUCKET = "gcp:storage/bucket:Bucket"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
SA_IAM = "gcp:serviceaccount/iAMMember:IAMMember"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
SERVICE = "gcp:projects/service:Service"


@pytest.fixture(scope="module")
def example() -> tuple[Run, dict[str, Any]]:
    return run_bootstrap()


def _ops_project() -> str:
    return example_config()["gcp:project"]


def _stacks() -> dict[str, dict[str, str]]:
    return example_config()["switchboard-bootstrap:stacks"]


# Which API each resource type is made with, and in which project (independent of the
# program's own tables, so a missing depends_on shows up here).
def _api_of(reg: Registration) -> tuple[str, str] | None:
    ops, inputs = _ops_project(), reg.inputs
    by_type = {
        BUCKET: ("storage.googleapis.com", ops),
        "gcp:storage/bucketIAMMember:BucketIAMMember": ("storage.googleapis.com", ops),
        "gcp:kms/keyRing:KeyRing": ("cloudkms.googleapis.com", ops),
        "gcp:kms/cryptoKey:CryptoKey": ("cloudkms.googleapis.com", ops),
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": ("cloudkms.googleapis.com", ops),
        "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": ("iam.googleapis.com", ops),
        PROVIDER: ("iam.googleapis.com", ops),
    }
    if reg.type in by_type:
        return by_type[reg.type]
    if reg.type == "gcp:serviceaccount/account:Account":
        return "iam.googleapis.com", inputs["project"]
    if reg.type == SA_IAM:  # projects/<p>/serviceAccounts/<email>
        return "iam.googleapis.com", inputs["serviceAccountId"].split("/")[1]
    if reg.type == PROJECT_IAM:
        return "cloudresourcemanager.googleapis.com", inputs["project"]
    if reg.type == SERVICE:
        return None
    raise AssertionError(f"{reg.type} ({reg.name}): which API does it use? (extend the test)")


def missing_api_dependencies(registrations: list[Registration]) -> list[str]:
    """Custom resources that do not depend, directly or through others, on their API."""
    by_urn = {r.urn: r for r in registrations}
    services = {
        (r.inputs["service"], r.inputs["project"]): r.urn
        for r in registrations
        if r.type == SERVICE
    }

    def closure(urn: str) -> set[str]:
        seen: set[str] = set()
        stack = list(by_urn[urn].dependencies)
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(by_urn[dep].dependencies if dep in by_urn else ())
        return seen

    problems = []
    for reg in registrations:
        if not reg.custom or (api := _api_of(reg)) is None:
            continue
        if api not in services:
            problems.append(f"{reg.name}: {api[0]} is never enabled in {api[1]}")
        elif services[api] not in closure(reg.urn):
            problems.append(f"{reg.name} ({reg.type}) does not depend on {api[0]} in {api[1]}")
    return problems


@pytest.mark.slow
def test_every_resource_depends_on_the_api_it_uses(example: tuple[Run, dict[str, Any]]) -> None:
    run, _ = example
    assert missing_api_dependencies(run.registrations) == []


def test_the_dependency_check_catches_a_missing_edge(example: tuple[Run, dict[str, Any]]) -> None:
    run, _ = example
    bucket = run.of_type(BUCKET)[0]
    cut = [
        Registration(**{**r.__dict__, "dependencies": ()}) if r is bucket else r
        for r in run.registrations
    ]
    assert missing_api_dependencies(cut) == [
        f"{bucket.name} ({BUCKET}) does not depend on storage.googleapis.com in {_ops_project()}"
    ]


def test_no_primitive_roles_and_no_public_members(example: tuple[Run, dict[str, Any]]) -> None:
    run, _ = example
    text = json.dumps([r.inputs for r in run.registrations])
    for role in PRIMITIVE_ROLES:
        assert f'"{role}"' not in text
    assert "allUsers" not in text
    assert "allAuthenticatedUsers" not in text
    roles = {r.inputs["role"] for r in run.registrations if "role" in r.inputs}
    assert roles and not roles & PRIMITIVE_ROLES


def test_each_deployer_has_the_documented_roles_in_its_own_project_only(
    example: tuple[Run, dict[str, Any]],
) -> None:
    run, resolved = example
    for stack, target in _stacks().items():
        email = resolved[f"deployer:{stack}"]
        assert email == f"sb-deployer@{target['project']}.iam.gserviceaccount.com"
        grants = [
            r.inputs
            for r in run.of_type(PROJECT_IAM)
            if r.inputs["member"] == f"serviceAccount:{email}"
        ]
        assert {g["project"] for g in grants} == {target["project"]}
        roles = sorted(g["role"] for g in grants)
        assert roles == list(deployer_roles())
        for role in roles:
            assert role in ROLE_REASONS, role  # documented: see test_roles


def test_the_previewer_has_exactly_the_derived_roles_in_each_stack_project(
    example: tuple[Run, dict[str, Any]],
) -> None:
    """Derived from what the program reads at preview (roles.PROGRAM_READS), nothing else."""
    run, resolved = example
    member = f"serviceAccount:{resolved['previewer']}"
    grants = [r.inputs for r in run.of_type(PROJECT_IAM) if r.inputs["member"] == member]
    for target in _stacks().values():
        roles = sorted(g["role"] for g in grants if g["project"] == target["project"])
        assert roles == sorted(previewer_roles())
    assert {g["project"] for g in grants} == {t["project"] for t in _stacks().values()}


def test_only_the_stacks_environment_may_impersonate_its_deployer(
    example: tuple[Run, dict[str, Any]],
) -> None:
    run, _ = example
    repository = example_config()["switchboard-bootstrap:githubRepository"]
    bindings = {r.name: r.inputs for r in run.of_type(SA_IAM)}
    for stack, target in _stacks().items():
        binding = bindings[f"{stack}-deployer-github"]
        assert binding["role"] == IMPERSONATION_ROLE
        assert binding["member"].startswith("principal://iam.googleapis.com/projects/")
        assert binding["member"].endswith(
            f"/subject/repo:{repository}:environment:{target['environment']}"
        )
        assert f"/serviceAccounts/sb-deployer@{target['project']}." in binding["serviceAccountId"]
    assert bindings["previewer-github"]["member"].endswith(
        f"/subject/repo:{repository}:pull_request"
    )
    assert len(bindings) == len(_stacks()) + 1


def test_state_bucket_is_private_versioned_and_protected(
    example: tuple[Run, dict[str, Any]],
) -> None:
    run, resolved = example
    (bucket,) = run.of_type(BUCKET)
    inputs = bucket.inputs
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert "retentionPolicy" not in inputs  # would forbid overwriting the state file
    assert inputs["forceDestroy"] is False
    assert bucket.protect
    for rule in inputs["lifecycleRules"]:  # only old versions are ever deleted
        assert rule["condition"]["withState"] == "ARCHIVED"
    assert resolved["state_bucket_url"] == f"gs://{_ops_project()}-pulumi-state"


def test_deployers_reach_only_their_own_stacks_state_and_key(
    example: tuple[Run, dict[str, Any]],
) -> None:
    run, resolved = example
    bucket_members = run.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    key_members = run.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    for stack in _stacks():
        member = f"serviceAccount:{resolved[f'deployer:{stack}']}"
        objects = [
            r.inputs
            for r in bucket_members
            if r.inputs["member"] == member and r.inputs["role"] == "roles/storage.objectAdmin"
        ]
        (only,) = objects
        expression = only["condition"]["expression"]
        assert f"/.pulumi/stacks/switchboard/{stack}." in expression
        for other in set(_stacks()) - {stack}:
            assert f"/{other}" not in expression
        keys = [r.inputs for r in key_members if r.inputs["member"] == member]
        assert [k["role"] for k in keys] == ["roles/cloudkms.cryptoKeyEncrypterDecrypter"]
        assert keys[0]["cryptoKeyId"].endswith(f"/cryptoKeys/stack-secrets-{stack}")
        assert resolved[f"secrets_provider:{stack}"] == "gcpkms://" + keys[0]["cryptoKeyId"]


def test_the_provider_pins_the_repository_and_trusts_only_github(
    example: tuple[Run, dict[str, Any]],
) -> None:
    run, resolved = example
    (provider,) = run.of_type(PROVIDER)
    repository = example_config()["switchboard-bootstrap:githubRepository"]
    condition = provider.inputs["attributeCondition"]
    assert condition.startswith(f"assertion.repository == '{repository}' && ")
    assert provider.inputs["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert provider.inputs["attributeMapping"]["google.subject"] == "assertion.sub"
    assert resolved["workload_identity_provider"].endswith(
        "/locations/global/workloadIdentityPools/github/providers/github"
    )
    assert provider.protect
