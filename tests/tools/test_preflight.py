"""The preflight: each rule fires on a real render broken the way a first deploy breaks,
and the program as it is passes every rule in every stack."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.project.apis import RESOURCE_APIS
from tests.tools.conftest import fresh_render, preview_render
from tools.preflight.__main__ import main, stack_facts
from tools.preflight.graph import Render
from tools.preflight.org_rules import ORG_RULES
from tools.preflight.rules import RULES, Finding, StackFacts, check
from tools.render.manifest import STACKS

Manifest = dict[str, Any]


def broken(stack: str, mutate: Callable[[Manifest], None]) -> list[Finding]:
    manifest = copy.deepcopy(fresh_render(stack))
    mutate(manifest)
    return check(Render.from_manifest(manifest), stack_facts(stack))


def resource(manifest: Manifest, type_suffix: str, name: str) -> dict[str, Any]:
    return next(
        r for r in manifest["resources"] if r["type"].endswith(type_suffix) and r["name"] == name
    )


def rules_fired(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.resource) for f in findings}


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_passes_every_rule(stack: str) -> None:
    findings = check(Render.from_manifest(fresh_render(stack)), stack_facts(stack))
    assert findings == []


def test_every_type_the_program_declares_is_in_the_api_table() -> None:
    for stack in STACKS:
        for r in fresh_render(stack)["resources"]:
            assert not r["custom"] or r["type"] in RESOURCE_APIS, r["type"]


def test_a_service_running_an_image_nothing_builds_is_caught() -> None:
    def tag_only(manifest: Manifest) -> None:
        gateway = resource(manifest, "Service", "gateway")
        gateway["inputs"]["template"]["containers"][0]["image"] = (
            "europe-west1-docker.pkg.dev/p/switchboard-agents/gateway:0123abcd"
        )

    assert ("image-built-in-stack", "gcp:cloudrunv2/service:Service::gateway") in rules_fired(
        broken("dev", tag_only)
    )


def test_a_service_that_does_not_wait_for_its_build_is_caught() -> None:
    def no_wait(manifest: Manifest) -> None:
        gateway = resource(manifest, "Service", "gateway")
        gateway["dependencies"] = [
            d for d in gateway["dependencies"] if not d.startswith("pulumi-python:dynamic")
        ]

    assert ("image-built-in-stack", "gcp:cloudrunv2/service:Service::gateway") in rules_fired(
        broken("staging", no_wait)
    )


def test_reading_latest_or_an_unknown_version_is_caught() -> None:
    def latest(manifest: Manifest) -> None:
        env = resource(manifest, "Function", "scheduler")["inputs"]["serviceConfig"]
        env["secretEnvironmentVariables"][0]["version"] = "latest"

    def other_version(manifest: Manifest) -> None:
        env = resource(manifest, "Function", "billing")["inputs"]["serviceConfig"]
        env["secretEnvironmentVariables"][0]["version"] = "5"

    assert ("secret-version-exists", "gcp:cloudfunctionsv2/function:Function::scheduler") in (
        rules_fired(broken("dev", latest))
    )
    findings = broken("prod", other_version)
    assert ("secret-version-exists", "gcp:cloudfunctionsv2/function:Function::billing") in (
        rules_fired(findings)
    )
    assert any("declares version 1 external" in f.problem for f in findings)


def test_a_secret_neither_created_nor_external_is_caught() -> None:
    facts = stack_facts("dev")
    facts = StackFacts({}, facts.secrets_provider, facts.archive_requirements)
    findings = check(Render.from_manifest(fresh_render("dev")), facts)
    readers = {f.resource for f in findings if f.rule == "secret-version-exists"}
    assert "gcp:cloudfunctionsv2/function:Function::notifier" in readers
    assert "gcp:cloudrunv2/service:Service::gateway" in readers


def test_a_resource_that_does_not_wait_for_its_api_is_caught() -> None:
    target = "gcp:pubsub/topic:Topic::billing-on-bookings-dead-letter"

    def no_api(manifest: Manifest) -> None:
        topic = next(r for r in manifest["resources"] if r["id"] == target)
        topic["dependencies"] = [d for d in topic["dependencies"] if "Service::" not in d]

    findings = broken("dev", no_api)
    assert ("api-enabled-first", target) in rules_fired(findings)
    assert any("pubsub.googleapis.com" in f.problem for f in findings if f.resource == target)


def test_an_unknown_resource_type_is_caught() -> None:
    def new_type(manifest: Manifest) -> None:
        manifest["resources"].append(
            {
                "id": "gcp:sql/databaseInstance:DatabaseInstance::db",
                "type": "gcp:sql/databaseInstance:DatabaseInstance",
                "name": "db",
                "custom": True,
                "parent": None,
                "dependencies": [],
                "inputs": {},
            }
        )

    assert ("api-enabled-first", "gcp:sql/databaseInstance:DatabaseInstance::db") in (
        rules_fired(broken("dev", new_type))
    )


def test_a_function_built_before_the_build_identity_is_granted_is_caught() -> None:
    def no_builder_grants(manifest: Manifest) -> None:
        ledger = resource(manifest, "Function", "ledger")
        ledger["dependencies"] = [d for d in ledger["dependencies"] if "builder-" not in d]

    findings = broken("dev", no_builder_grants)
    grants = {f.fix for f in findings if f.resource.endswith("Function::ledger")}
    assert any("builder-log-writer" in fix for fix in grants)
    assert any("builder-source-reader" in fix for fix in grants)


def test_a_push_before_the_invoker_may_mint_tokens_is_caught() -> None:
    target = "gcp:pubsub/subscription:Subscription::notifier-on-notifications"

    def no_token_creator(manifest: Manifest) -> None:
        subscription = next(r for r in manifest["resources"] if r["id"] == target)
        subscription["dependencies"] = [
            d
            for d in subscription["dependencies"]
            if "token-creator" not in d and not d.endswith("-grants-propagated")
        ]

    findings = broken("staging", no_token_creator)
    assert ("identity-grants-first", target) in rules_fired(findings)


def test_a_dead_letter_policy_before_the_service_agent_may_publish_is_caught() -> None:
    target = "gcp:pubsub/subscription:Subscription::ledger-on-payments"

    def no_publisher(manifest: Manifest) -> None:
        subscription = next(r for r in manifest["resources"] if r["id"] == target)
        subscription["dependencies"] = [
            d
            for d in subscription["dependencies"]
            if not d.endswith(("-pubsub-publisher", "-grants-propagated"))
        ]

    assert ("identity-grants-first", target) in rules_fired(broken("dev", no_publisher))


@pytest.mark.parametrize(
    ("target", "wait"),
    [
        (
            "gcp:pubsub/subscription:Subscription::billing-on-payments",
            "billing-push-grants-propagated",
        ),
        (
            "gcp:cloudfunctionsv2/function:Function::scheduler",
            "scheduler-runtime-grants-propagated",
        ),
        ("gcp:cloudfunctionsv2/function:Function::ledger", "builder-grants-propagated"),
        ("pulumi-python:dynamic:Resource::gateway-build", "builder-grants-propagated"),
    ],
)
def test_a_first_use_before_its_grants_propagate_is_caught(target: str, wait: str) -> None:
    """The grants still come first; only the wait for them to take effect is gone."""

    def no_propagation_wait(manifest: Manifest) -> None:
        node = next(r for r in manifest["resources"] if r["id"] == target)
        node["dependencies"] = [d for d in node["dependencies"] if not d.endswith(f"::{wait}")]

    findings = broken("dev", no_propagation_wait)
    assert ("grant-propagated-first", target) in rules_fired(findings)
    assert not [f for f in findings if f.rule == "identity-grants-first"]


def test_an_alert_on_a_metric_created_in_the_same_deploy_is_caught() -> None:
    def threshold_on_metric(manifest: Manifest) -> None:
        alert = resource(manifest, "AlertPolicy", "permanent-failures")
        alert["inputs"]["conditions"] = [
            {
                "displayName": "x",
                "conditionThreshold": {
                    "filter": 'metric.type = "logging.googleapis.com/user/'
                    'switchboard-permanent-failures"',
                },
            }
        ]

    assert (
        "no-race-in-one-step",
        "gcp:monitoring/alertPolicy:AlertPolicy::permanent-failures",
    ) in rules_fired(broken("prod", threshold_on_metric))


def test_an_archive_with_ranges_is_caught() -> None:
    facts = stack_facts("dev")
    loose = {
        name: [*lines[:-1], "stripe>=11,<17"] for name, lines in facts.archive_requirements.items()
    }
    facts = StackFacts(facts.external_secrets, facts.secrets_provider, loose)
    findings = check(Render.from_manifest(fresh_render("dev")), facts)
    pinned = [f for f in findings if f.rule == "archive-pins-requirements"]
    assert len(pinned) == len(loose)
    assert all("stripe>=11,<17" in f.problem for f in pinned)


def test_a_stale_archive_in_the_render_is_caught() -> None:
    def stale(manifest: Manifest) -> None:
        resource(manifest, "BucketObject", "ledger-source")["inputs"]["name"] = (
            "agents/ledger/00000000000000000000.zip"
        )

    findings = broken("dev", stale)
    assert any("the render is stale" in f.problem for f in findings)


def test_a_stack_without_a_kms_secrets_provider_is_caught(tmp_path: Path) -> None:
    facts = stack_facts("dev")
    for provider in (None, "passphrase"):
        facts = StackFacts(facts.external_secrets, provider, facts.archive_requirements)
        findings = check(Render.from_manifest(fresh_render("dev")), facts)
        assert [(f.rule, f.resource) for f in findings if f.rule == "stack-secrets-provider"] == [
            ("stack-secrets-provider", "Pulumi.dev.yaml")
        ]


def test_every_rule_has_a_test_that_makes_it_fire() -> None:
    names = {rule.__name__ for rule in RULES}
    # images, secrets, APIs, grants, propagation, canonical forms (test_preflight_canonical),
    # races, archives, provider, budget (tests/tools/cost); org rules: test_preflight_org
    assert len(names) == 10 + len(ORG_RULES)


@pytest.mark.slow
def test_the_command_reports_and_exits_by_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    previews = tmp_path / "preview"
    previews.mkdir()
    for stack in STACKS:
        (tmp_path / f"{stack}.json").write_text(json.dumps(fresh_render(stack)))
        (previews / f"{stack}.json").write_text(json.dumps(preview_render(stack)))
    assert main(["--rendered", str(tmp_path), "--preview-rendered", str(previews)]) == 0
    assert "dev: first deploy OK" in capsys.readouterr().out
    manifest = copy.deepcopy(fresh_render("dev"))
    resource(manifest, "Function", "notifier")["inputs"]["serviceConfig"][
        "secretEnvironmentVariables"
    ][0]["version"] = "latest"
    (tmp_path / "dev.json").write_text(json.dumps(manifest))
    assert main(["dev", "--rendered", str(tmp_path), "--preview-rendered", str(previews)]) == 1
    out = capsys.readouterr().out
    assert "[secret-version-exists] gcp:cloudfunctionsv2/function:Function::notifier" in out
    assert "fix:" in out
    (tmp_path / "dev.json").write_text("{")
    assert main(["dev", "--rendered", str(tmp_path), "--preview-rendered", str(previews)]) == 2
    assert "not a render" in capsys.readouterr().err
