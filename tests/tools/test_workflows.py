"""The GitHub Actions workflows: job graph, fork safety, keyless GCP auth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
KEY_INPUTS = {"credentials_json", "credentials", "service_account_key", "key_file", "keyfile"}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    return on if isinstance(on, dict) else {name: None for name in ([on] if on else [])}


def all_workflows() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def test_deploy_promotes_dev_then_staging_then_gated_prod() -> None:
    deploy = load("deploy.yml")
    assert set(triggers(deploy)) >= {"push"}
    assert triggers(deploy)["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert jobs["deploy-dev"]["needs"] == "checks"
    assert jobs["deploy-staging"]["needs"] == "deploy-dev"
    assert jobs["deploy-prod"]["needs"] == "deploy-staging"
    stacks = {name: job["with"]["stack"] for name, job in jobs.items() if "with" in job}
    assert stacks == {"deploy-dev": "dev", "deploy-staging": "staging", "deploy-prod": "prod"}
    assert jobs["deploy-prod"]["with"]["environment"] == "production"
    for name in stacks:  # the called workflow cannot widen the caller's token
        assert jobs[name]["permissions"] == {"contents": "read", "id-token": "write"}
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_each_stack_deploy_runs_up_with_the_pack_then_verifies() -> None:
    stack = load("deploy-stack.yml")
    assert "workflow_call" in triggers(stack)
    job = stack["jobs"]["up"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["permissions"]["id-token"] == "write"
    uses = [s.get("uses", "") for s in steps(job)]
    up = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
    auth = next(i for i, u in enumerate(uses) if u.startswith("google-github-actions/auth@"))
    verify = next(i for i, s in enumerate(steps(job)) if "tools.verify" in s.get("run", ""))
    assert auth < up < verify
    assert steps(job)[up]["with"]["command"] == "up"
    assert steps(job)[up]["with"]["policyPacks"] == "policy"
    pointer = [s for s in steps(job) if s.get("if") == "failure()"]
    assert len(pointer) == 1 and "docs/runbooks/deploy-failures.md" in pointer[0]["run"]


def test_pull_requests_are_fork_safe() -> None:
    pr = load("pull-request.yml")
    assert "pull_request" in triggers(pr)
    assert "pull_request_target" not in triggers(pr)
    assert pr["permissions"] == {"contents": "read"}
    for name, job in pr["jobs"].items():
        text = yaml.safe_dump(job)
        privileged = "secrets." in text or job.get("permissions", {}).get("id-token") == "write"
        if privileged:
            assert "head.repo.full_name == github.repository" in job.get("if", ""), name
    preview = pr["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    action = next(s for s in steps(preview) if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview"
    assert action["with"]["policyPacks"] == "policy"
    diff = pr["jobs"]["offline-diff"]
    assert "if" not in diff and "secrets." not in yaml.safe_dump(diff)
    assert any("tools.diff" in s.get("run", "") for s in steps(diff))


def test_comment_workflow_never_runs_pr_code() -> None:
    comment = load("pull-request-comment.yml")
    assert triggers(comment)["workflow_run"]["workflows"] == ["pull-request"]
    for job in comment["jobs"].values():
        uses = [s.get("uses", "") for s in steps(job)]
        assert not any(u.startswith("actions/checkout") for u in uses)
        assert job["permissions"]["pull-requests"] == "write"


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_gcp_auth_is_keyless(name: str) -> None:
    workflow = all_workflows()[name]
    for job in workflow.get("jobs", {}).values():
        for step in steps(job):
            inputs = set((step.get("with") or {}).keys())
            assert not inputs & KEY_INPUTS, (name, step)
            if step.get("uses", "").startswith("google-github-actions/auth@"):
                assert {"workload_identity_provider", "service_account"} <= inputs
                assert job["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / name).read_text()
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in text
    assert "credentials_json" not in text


def test_pull_requests_audit_the_locked_set_and_every_agent() -> None:
    audit = load("pull-request.yml")["jobs"]["dependency-audit"]
    commands = " ".join(s.get("run", "") for s in steps(audit))
    assert "pip-audit==" in commands  # pinned
    assert "-r constraints.txt" in commands and "--disable-pip" in commands
    assert "-r requirements.txt" in commands
    assert "functions/*/agent.yaml" in commands and "functions/shared/requirements.txt" in commands
    assert "--strict" in commands
    assert "secrets." not in yaml.safe_dump(audit)


def test_pull_requests_fail_on_the_event_contract_gate() -> None:
    """tools.diff's exit 3 (incompatible schema change) is not mistaken for a base that
    cannot be rendered, and fails the job after the comment's artifact is uploaded."""
    from tools.diff.contracts import GATE_EXIT

    names = [
        s.get("name", s.get("uses", ""))
        for s in steps(load("pull-request.yml")["jobs"]["offline-diff"])
    ]
    diff_steps = steps(load("pull-request.yml")["jobs"]["offline-diff"])
    run = next(s["run"] for s in diff_steps if "tools.diff --base" in s.get("run", ""))
    assert f'[ "$status" -ne {GATE_EXIT} ]' in run and "diff/gate-status" in run
    gate = names.index("event-contract gate (incompatible schema changes fail the pull request)")
    assert gate > names.index("actions/upload-artifact@v4")
    assert "exit 1" in diff_steps[gate]["run"]
