"""The preview-mode render: the program as a first `pulumi preview` runs it (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from infra.offline.harness import REPO_ROOT
from policy.switchboard_policies.model import UNKNOWN as POLICY_UNKNOWN
from tests.tools.conftest import fresh_render, preview_render
from tools.render.__main__ import main
from tools.render.manifest import MODE_PREVIEW, MODE_UPDATE, STACKS
from tools.render.normalise import UNKNOWN, normalise

SECRET_VERSION_READ = "gcp:secretmanager/getSecretVersion:getSecretVersion"


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _resource(manifest: dict[str, Any], resource_id: str) -> dict[str, Any]:
    (found,) = [r for r in manifest["resources"] if r["id"] == resource_id]
    return found


def test_unknowns_are_recorded_as_one_marker_policies_know() -> None:
    assert normalise(Unknown(), REPO_ROOT) == UNKNOWN
    assert normalise(rpc.UNKNOWN, REPO_ROOT) == UNKNOWN
    assert normalise({"a": [Unknown()]}, REPO_ROOT) == {"a": [UNKNOWN]}
    assert POLICY_UNKNOWN == UNKNOWN


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_declares_what_an_update_declares(stack: str) -> None:
    preview, update = preview_render(stack), fresh_render(stack)
    assert preview["mode"] == MODE_PREVIEW and update["mode"] == MODE_UPDATE
    assert [r["id"] for r in preview["resources"]] == [r["id"] for r in update["resources"]]
    leaves = [str(leaf) for leaf in _leaves(preview)]
    assert UNKNOWN in leaves
    assert not [leaf for leaf in leaves if "pulumi.output" in leaf or leaf == rpc.UNKNOWN]
    assert UNKNOWN not in [str(leaf) for leaf in _leaves(update)]


def test_what_the_cloud_computes_is_unknown_in_a_preview() -> None:
    preview, update = preview_render("dev"), fresh_render("dev")
    gateway = "gcp:cloudrunv2/service:Service::gateway"
    image = _resource(preview, gateway)["inputs"]["template"]["containers"][0]["image"]
    assert image == UNKNOWN  # the build's digest
    assert "@sha256:" in _resource(update, gateway)["inputs"]["template"]["containers"][0]["image"]
    subscription = next(
        r for r in preview["resources"] if r["type"] == "gcp:pubsub/subscription:Subscription"
    )
    assert subscription["inputs"]["topic"] == UNKNOWN  # a topic's id
    assert subscription["inputs"]["pushConfig"]["oidcToken"]["serviceAccountEmail"] == UNKNOWN
    # What the program itself says stays known.
    assert (
        subscription["inputs"]["ackDeadlineSeconds"]
        == next(r for r in update["resources"] if r["id"] == subscription["id"])["inputs"][
            "ackDeadlineSeconds"
        ]
    )


def test_invokes_are_recorded_in_both_modes() -> None:
    update = fresh_render("dev")
    reads = [i for i in update["invokes"] if i["token"] == SECRET_VERSION_READ]
    assert {i["args"]["secret"] for i in reads} == {
        "booking-api-keys",
        "google-calendar-credentials",
        "stripe-api-key",
        "stripe-webhook-secret",
        "twilio-auth-token",
    }
    assert all(i["args"]["fetchSecretData"] is False for i in reads)
    assert preview_render("dev")["invokes"] == []  # problem 4: nothing read at preview


@pytest.mark.slow
def test_the_cli_writes_preview_renders_outside_rendered(tmp_path: Any) -> None:
    assert main(["staging", "--preview", "--out", str(tmp_path), "--quiet"]) == 0
    assert '"mode": "preview"' in (tmp_path / "staging.json").read_text(encoding="utf-8")
