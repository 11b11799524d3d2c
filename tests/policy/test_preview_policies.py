"""The policies over preview-mode renders (issue 18): as CrossGuard does in a preview, a
policy that reads an unknown value cannot run (an advisory note, never a violation); one
that reads only known values still catches what it catches at `pulumi up`."""

from __future__ import annotations

import copy

import pytest

from infra.catalogue import FUNCTIONS_DIR
from policy.switchboard_policies import run_policies
from policy.switchboard_policies.model import UNKNOWN, UnknownValueError, unknown_checking
from policy.switchboard_policies.renders import manifest_context, resources_from_manifest
from tests.tools.conftest import preview_render
from tools.render.manifest import STACKS

SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"


def _report(manifest: dict) -> object:
    resources = resources_from_manifest(manifest)
    return run_policies(resources, manifest_context(manifest, resources, FUNCTIONS_DIR))


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_the_policies_in_a_preview(stack: str) -> None:
    report = _report(preview_render(stack))
    assert report.violations == ()
    assert any("can't run during preview" in n.message for n in report.notes)


def test_reading_an_unknown_raises_and_known_values_read_as_ever() -> None:
    props = unknown_checking({"a": {"b": [UNKNOWN, 1]}, "c": "x"})
    assert props["c"] == "x" and props["a"]["b"][1] == 1
    with pytest.raises(UnknownValueError, match=r"a\.b\[0\]"):
        _ = props["a"]["b"][0]
    with pytest.raises(UnknownValueError):
        dict(unknown_checking({"topic": UNKNOWN}))


def test_a_known_violation_is_still_caught_in_a_preview() -> None:
    manifest = copy.deepcopy(preview_render("dev"))
    subscription = next(r for r in manifest["resources"] if r["type"] == SUBSCRIPTION)
    subscription["inputs"]["expirationPolicy"] = {"ttl": "2678400s"}  # expires after 31 days
    report = _report(manifest)
    assert [v.policy for v in report.violations] == ["subscription-never-expires"]
