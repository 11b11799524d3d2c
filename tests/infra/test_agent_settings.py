"""Per-stack agent settings: manifests declare names (``settings:``), stacks give values
(``switchboard:agentSettings``), the local platform reads ``localdev/settings.yaml``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.agent.plan import plan_fleet
from infra.catalogue import CatalogueError, env_policy, load_catalogue
from infra.offline.harness import REPO_ROOT, stack_config
from infra.settings import SettingsError, parse_settings, validate_against_catalogue
from localdev.agent_env import LocalEndpoints, agent_environment
from localdev.agent_settings import LocalSettingsError, local_agent_settings
from localdev.fake_secrets import fake_secrets
from tests.infra.conftest import Editor
from tools.render.manifest import manifest_json, render_stack

KEY = env_policy.STACK_SETTINGS_KEY
STACKS = ("dev", "staging", "prod")


def settings_with(stack: str, values: dict[str, Any] | None) -> Any:
    config = stack_config(stack)
    if values is None:
        config.pop(KEY)
    else:
        config[KEY] = values
    return parse_settings(stack, config)


def validate(stack: str, values: dict[str, Any] | None) -> None:
    catalogue = load_catalogue()
    settings = settings_with(stack, values)
    validate_against_catalogue(
        settings, set(catalogue.agents), set(catalogue.secrets), catalogue.setting_readers()
    )


def test_each_stack_gives_its_own_values_to_the_agents_that_declare_them() -> None:
    catalogue = load_catalogue()
    for stack in STACKS:
        settings = parse_settings(stack, stack_config(stack))
        plans = plan_fleet(catalogue, settings)
        values = stack_config(stack)[KEY]
        assert plans["scheduler"].env["CALENDAR_ID"] == values["CALENDAR_ID"]
        assert plans["notifier"].env["TWILIO_FROM_NUMBER"] == values["TWILIO_FROM_NUMBER"]
        assert plans["gateway"].env["TWILIO_ACCOUNT_SID"] == values["TWILIO_ACCOUNT_SID"]
        assert "CALENDAR_ID" not in plans["notifier"].env  # only what an agent declares


def test_no_manifest_carries_a_per_environment_value() -> None:
    for agent in load_catalogue().agents.values():
        for name in agent.env:
            assert not env_policy.ALLOWED_SETTINGS[name].per_stack, (agent.name, name)


@pytest.mark.slow
def test_changing_prods_sending_number_changes_prods_render_only(tmp_path: Path) -> None:
    for stack in STACKS:
        shutil.copy(REPO_ROOT / f"Pulumi.{stack}.yaml", tmp_path)
    prod_file = tmp_path / "Pulumi.prod.yaml"
    text = prod_file.read_text()
    old = stack_config("prod")[KEY]["TWILIO_FROM_NUMBER"]
    assert text.count(f'TWILIO_FROM_NUMBER: "{old}"') == 1
    prod_file.write_text(
        text.replace(f'TWILIO_FROM_NUMBER: "{old}"', 'TWILIO_FROM_NUMBER: "+447700900999"')
    )

    for stack in STACKS:
        committed = (REPO_ROOT / "rendered" / f"{stack}.json").read_text()
        fresh = manifest_json(render_stack(stack, stack_root=tmp_path))
        if stack != "prod":
            assert fresh == committed, f"{stack}'s render changed"
            continue
        assert fresh != committed
        notifier = [
            r
            for r in json.loads(fresh)["resources"]
            if r["type"] == "gcp:cloudfunctionsv2/function:Function" and "notifier" in r["name"]
        ]
        assert len(notifier) == 1
        env = notifier[0]["inputs"]["serviceConfig"]["environmentVariables"]
        assert env["TWILIO_FROM_NUMBER"] == "+447700900999"


def test_a_missing_value_names_the_stack_file_the_key_and_what_to_write() -> None:
    values = dict(stack_config("prod")[KEY])
    del values["TWILIO_FROM_NUMBER"]
    with pytest.raises(SettingsError) as caught:
        validate("prod", values)
    message = str(caught.value)
    assert "Pulumi.prod.yaml" in message
    assert f"{KEY}.TWILIO_FROM_NUMBER: required (declared under settings: by notifier)" in message
    assert 'TWILIO_FROM_NUMBER: "+447700900123"' in message  # what to write
    assert "CALENDAR_ID" not in message


def test_a_stack_without_the_block_names_every_missing_value() -> None:
    with pytest.raises(SettingsError) as caught:
        validate("staging", None)
    message = str(caught.value)
    assert "Pulumi.staging.yaml" in message
    for name in ("CALENDAR_ID", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"):
        assert f"{KEY}.{name}: required" in message


def test_a_value_no_agent_declares_is_refused() -> None:
    values = dict(stack_config("dev")[KEY]) | {"BOOKING_CURRENCY": "eur"}
    with pytest.raises(SettingsError, match=r"agentSettings.BOOKING_CURRENCY: no agent declares"):
        validate("dev", values)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TWILIO_FROM_NUMBER", "07700900123", "must match"),
        ("TWILIO_FROM_NUMBER", 15005550006, "quote it"),
        ("TWILIO_ACCOUNT_SID", "sk_live_abc", "looks like a credential"),
        ("STRIPE_ACCOUNT", "acct_1", "not an allowed agent setting"),
    ],
)
def test_a_malformed_value_names_its_key(name: str, value: object, says: str) -> None:
    values = dict(stack_config("dev")[KEY]) | {name: value}
    with pytest.raises(SettingsError) as caught:
        settings_with("dev", values)
    assert "Pulumi.dev.yaml" in str(caught.value)
    line = next(li for li in str(caught.value).splitlines() if f"agentSettings.{name}:" in li)
    assert says in line


def test_a_manifest_may_not_set_a_per_environment_value(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    def mutate(document: dict[str, Any]) -> None:
        document["env"]["CALENDAR_ID"] = "someone@example.org"
        document["settings"] = []

    edit_yaml("scheduler/agent.yaml", mutate)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(functions_copy)
    assert "env.CALENDAR_ID" in str(caught.value) and "differs per environment" in str(caught.value)


def test_a_manifest_may_only_declare_allowed_settings(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    edit_yaml("scheduler/agent.yaml", lambda d: d.update(settings=["CALENDAR_ID", "STRIPE_ACCT"]))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(functions_copy)
    assert "settings[1]" in str(caught.value) and "STRIPE_ACCT is not an allowed" in str(
        caught.value
    )


ENDPOINTS = LocalEndpoints("switchboard-local", "127.0.0.1:1", "127.0.0.1:2", None, "INFO")


def test_the_local_platform_reads_its_values_from_localdev_settings() -> None:
    catalogue = load_catalogue()
    local = yaml.safe_load((REPO_ROOT / "localdev" / "settings.yaml").read_text())["agentSettings"]
    env = agent_environment(
        catalogue,
        catalogue.agent("notifier"),
        ENDPOINTS,
        fake_secrets(list(catalogue.secrets)),
        threads=1,
        inherited={},
    )
    assert env["TWILIO_FROM_NUMBER"] == local["TWILIO_FROM_NUMBER"]
    assert env["TWILIO_ACCOUNT_SID"] == local["TWILIO_ACCOUNT_SID"]


def test_a_missing_local_value_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("agentSettings:\n  CALENDAR_ID: a@example.com\n")
    with pytest.raises(LocalSettingsError) as caught:
        local_agent_settings(load_catalogue(), path)
    message = str(caught.value)
    assert str(path) in message
    assert "agentSettings.TWILIO_FROM_NUMBER: required by notifier" in message
    path.write_text('agentSettings:\n  TWILIO_FROM_NUMBER: "12"\n')
    with pytest.raises(LocalSettingsError, match=r"agentSettings.TWILIO_FROM_NUMBER: value must"):
        local_agent_settings(load_catalogue(), path)
