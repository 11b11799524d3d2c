"""Bootstrap configuration: the example is valid and agrees with the repository; a
mistake names its key."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest
import yaml

from bootstrap.switchboard_bootstrap.program import main
from bootstrap.switchboard_bootstrap.secrets_keys import secrets_provider_url
from bootstrap.switchboard_bootstrap.settings import BootstrapError, parse_settings
from infra.offline.harness import REPO_ROOT, stack_config
from tests.bootstrap.harness import example_config, run_bootstrap

NS = "switchboard-bootstrap"
DEPLOY = REPO_ROOT / ".github" / "workflows" / "deploy.yml"


def _with(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(example_config())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def _problems(config: dict[str, Any]) -> str:
    with pytest.raises(BootstrapError) as caught:
        parse_settings("ops", config)
    return str(caught.value)


def test_the_example_stack_file_is_valid() -> None:
    settings = parse_settings("ops", example_config())
    assert set(settings.stacks) == {"dev", "staging", "prod"}


def test_missing_repository_names_the_key() -> None:
    message = _problems(_with(**{f"{NS}:githubRepository": None}))
    assert f"{NS}:githubRepository: required but not set" in message
    assert "bootstrap/Pulumi.ops.yaml" in message


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("gcp:project", "Not_A_Project", "gcp:project"),
        (f"{NS}:githubRepository", "no-slash", f"{NS}:githubRepository"),
        (f"{NS}:githubRepository", "o/r' || true || '", f"{NS}:githubRepository"),
        (f"{NS}:poolId", "gcp-github", f"{NS}:poolId"),
        (f"{NS}:kms", {"rotationDays": 0}, f"{NS}:kms.rotationDays"),
        (f"{NS}:state", {"softDeleteDays": 1}, f"{NS}:state.softDeleteDays"),
        (f"{NS}:colour", "blue", f"{NS}:colour: unknown key"),
        (f"{NS}:stacks", {}, f"{NS}:stacks"),
        (
            f"{NS}:stacks",
            {"dev": {"project": "bad project", "environment": "dev"}},
            f"{NS}:stacks.dev.project",
        ),
        (
            f"{NS}:stacks",
            {"dev": {"project": "switchboard-ops-000000", "environment": "dev"}},
            f"{NS}:stacks.dev.project: must not be the ops project",
        ),
    ],
)
def test_a_bad_value_names_its_key(key: str, value: Any, named: str) -> None:
    assert named in _problems(_with(**{key: value}))


def test_structured_values_arrive_as_json_strings_too() -> None:
    import json

    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in example_config().items()}
    assert parse_settings("ops", config) == parse_settings("ops", example_config())


def test_the_program_stops_with_the_message_alone() -> None:
    """pulumi.RunError: the CLI prints its message, no traceback."""
    with pytest.raises(pulumi.RunError) as caught:
        run_bootstrap(_with(**{"gcp:project": "X"}), program=main)  # type: ignore[arg-type]
    assert "gcp:project" in str(caught.value)
    assert caught.value.__suppress_context__


def test_stacks_match_the_repositorys_stack_files_and_deploy_workflow() -> None:
    settings = parse_settings("ops", example_config())
    workflow = yaml.safe_load(DEPLOY.read_text())
    deployed = {
        job["with"]["stack"]: job["with"]["environment"]
        for job in workflow["jobs"].values()
        if "with" in job
    }
    assert {s: t.environment for s, t in settings.stacks.items()} == deployed
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on["push"]["branches"] == [settings.deploy_branch]
    for stack, target in settings.stacks.items():
        assert stack_config(stack)["gcp:project"] == target.project


def test_stack_files_carry_the_bootstraps_secrets_provider() -> None:
    settings = parse_settings("ops", example_config())
    _, resolved = run_bootstrap()
    for stack in settings.stacks:
        document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
        expected = secrets_provider_url(settings.ops_project, settings.kms, stack)
        assert document["secretsprovider"] == expected == resolved[f"secrets_provider:{stack}"]
