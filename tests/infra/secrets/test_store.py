"""Secrets exist before anything reads them: value sources, pinned versions, the check of
external versions before the first resource, and rotation as a reviewed change."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.offline.harness import Run, run_stack, stack_config
from infra.offline.mocks import GcpMocks
from infra.settings import SettingsError
from tests.committed_renders import committed_run

FUNCTION = "gcp:cloudfunctionsv2/function:Function"
SERVICE = "gcp:cloudrunv2/service:Service"
VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
SECRET = "gcp:secretmanager/secret:Secret"


def config_sourced(stack: str, secret: str, value: Any) -> dict[str, Any]:
    """Overrides that move ``secret`` to the ``config`` source with ``value``."""
    sources = dict(stack_config(stack)["switchboard:secrets"])
    sources[secret] = "config"
    return {"switchboard:secrets": sources, f"switchboard:secret-{secret}": value}


def pinned_versions(run: Run) -> dict[tuple[str, str], str]:
    """(workload, secret) -> the version it reads, for functions and services."""
    found: dict[tuple[str, str], str] = {}
    for fn in run.of_type(FUNCTION):
        for env in fn.inputs["serviceConfig"].get("secretEnvironmentVariables", []):
            found[(fn.name, env["secret"])] = env["version"]
    for service in run.of_type(SERVICE):
        for env in service.inputs["template"]["containers"][0]["envs"]:
            if "valueSource" in env:
                ref = env["valueSource"]["secretKeyRef"]
                found[(service.name, ref["secret"])] = ref["version"]
    return found


def test_committed_stacks_pin_their_external_versions() -> None:
    for stack in ("dev", "staging", "prod"):
        run = committed_run(stack)
        versions = pinned_versions(run)
        assert versions, stack
        assert set(versions.values()) == {"1"}, stack  # external:1, never "latest"
        # external secrets are managed out of band: the stack declares no container
        assert run.of_type(SECRET) == [] and run.of_type(VERSION) == []


@pytest.mark.slow
def test_a_config_sourced_secret_is_versioned_and_every_reader_waits_for_it() -> None:
    run = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", "sk_test_123"))
    (version,) = run.of_type(VERSION)
    assert version.name == "stripe-api-key-from-config"
    assert pulumi.runtime.rpc.is_rpc_secret(version.inputs["secretData"])
    (secret,) = run.of_type(SECRET)
    assert secret.inputs["secretId"] == "stripe-api-key"
    # Moving the secret to external later (or destroying the stack) must not delete it.
    assert secret.retain_on_delete and version.retain_on_delete
    pinned = version.outputs["version"]
    readers = {w for (w, s) in pinned_versions(run) if s == "stripe-api-key"}
    assert readers == {"billing"}
    billing = run.named("billing", FUNCTION)
    assert version.urn in billing.dependencies
    assert pinned_versions(run)[("billing", "stripe-api-key")] == pinned != "latest"


@pytest.mark.slow
def test_a_new_config_value_changes_the_pinned_version_of_its_readers() -> None:
    before = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", "sk_test_1"))
    after = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", "sk_test_2"))
    key = ("billing", "stripe-api-key")
    assert pinned_versions(before)[key] != pinned_versions(after)[key]
    unchanged = ("notifier", "twilio-auth-token")
    assert pinned_versions(before)[unchanged] == pinned_versions(after)[unchanged]


@pytest.mark.slow
def test_rotating_an_external_secret_is_bumping_its_pinned_version() -> None:
    sources = dict(stack_config("dev")["switchboard:secrets"])
    sources["twilio-auth-token"] = "external:7"
    run = run_stack("dev", overrides={"switchboard:secrets": sources})
    readers = {w: v for (w, s), v in pinned_versions(run).items() if s == "twilio-auth-token"}
    assert readers == {"notifier": "7", "gateway": "7"}


def test_a_secret_without_a_value_source_stops_before_anything_is_declared() -> None:
    sources = dict(stack_config("dev")["switchboard:secrets"])
    del sources["stripe-api-key"]
    registered: list[str] = []
    with pytest.raises(SettingsError) as caught:
        run = run_stack("dev", overrides={"switchboard:secrets": sources})
        registered = [r.type for r in run.registrations]
    message = str(caught.value)
    assert "switchboard:secrets.stripe-api-key: no value source (read by billing)" in message
    assert "pulumi config set --stack dev --secret switchboard:secret-stripe-api-key" in message
    assert "gcloud secrets create stripe-api-key" in message
    assert registered == []


def test_config_source_without_its_value_names_the_command() -> None:
    overrides = config_sourced("staging", "twilio-auth-token", "x")
    del overrides["switchboard:secret-twilio-auth-token"]
    with pytest.raises(SettingsError, match="read by gateway, notifier") as caught:
        run_stack("staging", overrides=overrides)
    assert "pulumi config set --stack staging --secret switchboard:secret-twilio-auth-token" in str(
        caught.value
    )


def test_a_value_and_an_external_source_for_one_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="managed out of band: remove one of the two"):
        run_stack("dev", overrides={"switchboard:secret-stripe-api-key": "sk_test_1"})


@pytest.mark.parametrize("bad", ["latest", "external", "external:0", "external:x", "vault"])
def test_a_malformed_source_names_the_key(bad: str) -> None:
    sources = dict(stack_config("dev")["switchboard:secrets"])
    sources["stripe-api-key"] = bad
    with pytest.raises(SettingsError, match=r"switchboard:secrets\.stripe-api-key: must be"):
        run_stack("dev", overrides={"switchboard:secrets": sources})


def test_a_source_for_an_undeclared_secret_is_refused() -> None:
    sources = dict(stack_config("dev")["switchboard:secrets"]) | {"nope": "external:1"}
    with pytest.raises(SettingsError, match=r"switchboard:secrets\.nope: no such secret"):
        run_stack("dev", overrides={"switchboard:secrets": sources})


def test_a_missing_external_version_stops_before_any_resource_with_the_fix() -> None:
    existing = {
        "google-calendar-credentials": {"1": "ENABLED"},
        "stripe-api-key": {"1": "ENABLED"},
        "stripe-webhook-secret": {"1": "ENABLED"},
        # twilio-auth-token: nothing was ever added
    }
    mocks = GcpMocks(secret_versions=existing)
    with pytest.raises(SettingsError) as caught:
        run_stack("dev", mocks=mocks)
    message = str(caught.value)
    assert "switchboard:secrets.twilio-auth-token = external:1: cannot be read" in message
    assert "read by gateway, notifier" in message
    assert "gcloud secrets create twilio-auth-token" in message
    assert "stripe-api-key" not in message


def test_a_destroyed_external_version_is_refused() -> None:
    existing = {
        name: {"1": "DESTROYED" if name == "stripe-webhook-secret" else "ENABLED"}
        for name in stack_config("dev")["switchboard:secrets"]
    }
    with pytest.raises(SettingsError, match="version 1 was destroyed") as caught:
        run_stack("dev", mocks=GcpMocks(secret_versions=existing))
    assert "stripe-webhook-secret" in str(caught.value)
    assert "stripe-api-key" not in str(caught.value)


@pytest.mark.slow
def test_a_disabled_external_version_is_not_detectable_at_program_time() -> None:
    """The provider answers enabled=true for a disabled version (see store.py), so the
    check passes: pinned here so that a change of the mock's (or the check's) answer is
    a decision, not an accident."""
    existing = {
        name: {"1": "DISABLED" if name == "stripe-webhook-secret" else "ENABLED"}
        for name in stack_config("dev")["switchboard:secrets"]
    }
    run = run_stack("dev", mocks=GcpMocks(secret_versions=existing))
    assert run.registrations


SECRET_VERSION_READ = "gcp:secretmanager/getSecretVersion:getSecretVersion"


@pytest.mark.slow
def test_a_preview_reads_no_secret_version_and_the_update_still_checks() -> None:
    """Issue 18, problem 4: a pull-request preview runs as the previewer, which has no
    Secret Manager role; the program must not read secret versions there. The update of
    the same `pulumi up` checks them before its first resource."""
    nothing_exists: dict[str, dict[str, str]] = {}
    preview = run_stack("dev", mocks=GcpMocks(nothing_exists, preview=True), preview=True)
    assert preview.registrations, "the preview declared the stack"
    assert [i.token for i in preview.invokes if i.token == SECRET_VERSION_READ] == []
    with pytest.raises(SettingsError, match="external secret versions missing"):
        run_stack("dev", mocks=GcpMocks(nothing_exists))


def test_an_update_reads_each_external_version_as_metadata_only() -> None:
    run = committed_run("dev")
    reads = [i for i in run.invokes if i.token == SECRET_VERSION_READ]
    external = stack_config("dev")["switchboard:secrets"]
    assert sorted(str(i.args["secret"]) for i in reads) == sorted(external)
    assert all(i.args["fetchSecretData"] is False for i in reads)  # never versions.access
