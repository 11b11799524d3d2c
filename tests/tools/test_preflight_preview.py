"""The preflight's preview half (issue 18): every stack's first `pulumi preview` passes
the rules and the policies, and a program-time read the previewer cannot make (problem 4)
fails `make preflight` on a real render."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

import infra.build.provider
from infra.build.spec import INPUTS
from tests.tools.conftest import fresh_render, preview_render
from tools.preflight.__main__ import _check_preview, main, stack_facts
from tools.preflight.graph import Render
from tools.preflight.preview import check_preview
from tools.preflight.preview_rules import check_reads
from tools.render.manifest import STACKS, manifest_json, render_stack

SECRET_VERSION_READ = "gcp:secretmanager/getSecretVersion:getSecretVersion"
GATEWAY = "gcp:cloudrunv2/service:Service::gateway"
Manifest = dict[str, Any]


def preview_findings(stack: str, manifest: Manifest) -> set[tuple[str, str]]:
    update = Render.from_manifest(fresh_render(stack))
    findings, _ = check_preview(manifest, update, stack_facts(stack))
    return {(f.rule, f.resource) for f in findings}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_in_a_preview(stack: str) -> None:
    findings, advisory = check_preview(
        preview_render(stack), Render.from_manifest(fresh_render(stack)), stack_facts(stack)
    )
    assert findings == []
    assert advisory > 0  # the policies that read computed values wait for `pulumi up`


@pytest.mark.slow
def test_reintroducing_problem_4_fails_the_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program as it was: external secret versions read in a preview too."""
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)  # store.py's guard off
    manifest = json.loads(manifest_json(render_stack("dev", preview=True)))
    monkeypatch.undo()
    assert manifest["mode"] == "preview"
    assert {i["token"] for i in manifest["invokes"]} == {SECRET_VERSION_READ}
    assert ("preview-read-allowed", SECRET_VERSION_READ) in preview_findings("dev", manifest)


@pytest.mark.slow
def test_reintroducing_problem_1_fails_the_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build provider as it was: only the rpc.UNKNOWN string counted as unknown, while
    the dynamic-provider host hands over pulumi.output.Unknown objects; the engine stops a
    preview whose Check fails. The preview render runs the provider's own check."""
    from pulumi.dynamic import CheckFailure, CheckResult

    from infra.build.spec import input_errors

    def old_check(self: object, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        unknown = frozenset(n for n in INPUTS if news.get(n) == pulumi.runtime.rpc.UNKNOWN)
        errors = input_errors(news, unknown)
        return CheckResult(news, [CheckFailure(e.field, e.reason) for e in errors])

    update = Render.from_manifest(fresh_render("dev"))  # shared: never rendered patched
    # The class, not a module global: the by-value pickle carries the class's methods (and
    # a snapshot of the globals they use) to wherever the provider is loaded.
    monkeypatch.setattr(infra.build.provider.ImageBuildProvider, "check", old_check)
    findings, _ = _check_preview("dev", None, update, stack_facts("dev"))
    assert [(f.rule, f.resource) for f in findings] == [("preview-runs", "dev (first preview)")]
    assert "service_account: must be a string, not Unknown" in findings[0].problem


def test_an_unmapped_read_is_caught_in_either_mode() -> None:
    for render in (fresh_render("prod"), preview_render("prod")):
        manifest = copy.deepcopy(render)
        manifest["invokes"].append({"token": "gcp:new/getThing:getThing", "args": {}})
        findings = check_reads(Render.from_manifest(manifest), stack_facts("prod"))
        assert [(f.rule, f.resource) for f in findings][:1] == [
            ("read-has-role", "gcp:new/getThing:getThing")
        ]


def test_a_plan_that_differs_at_preview_is_caught() -> None:
    manifest = copy.deepcopy(preview_render("staging"))
    manifest["resources"] = [r for r in manifest["resources"] if r["id"] != GATEWAY]
    assert ("preview-declares-the-same", GATEWAY) in preview_findings("staging", manifest)


def test_an_unknown_image_still_needs_a_build_it_waits_for() -> None:
    manifest = copy.deepcopy(preview_render("dev"))
    gateway = next(r for r in manifest["resources"] if r["id"] == GATEWAY)
    assert gateway["inputs"]["template"]["containers"][0]["image"] == "[unknown]"
    gateway["dependencies"] = [
        d for d in gateway["dependencies"] if not d.startswith("pulumi-python:dynamic")
    ]
    assert ("image-built-in-stack", GATEWAY) in preview_findings("dev", manifest)


def test_a_policy_violation_in_a_preview_is_a_finding() -> None:
    manifest = copy.deepcopy(preview_render("dev"))
    subscription = next(
        r for r in manifest["resources"] if r["type"] == "gcp:pubsub/subscription:Subscription"
    )
    subscription["inputs"]["expirationPolicy"] = {"ttl": "2678400s"}
    assert ("policy:subscription-never-expires", subscription["id"]) in preview_findings(
        "dev", manifest
    )


def test_the_command_checks_both_modes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rendered, previews = tmp_path / "rendered", tmp_path / "preview"
    rendered.mkdir()
    previews.mkdir()
    for stack in STACKS:
        (rendered / f"{stack}.json").write_text(json.dumps(fresh_render(stack)))
        (previews / f"{stack}.json").write_text(json.dumps(preview_render(stack)))
    args = ["--rendered", str(rendered), "--preview-rendered", str(previews)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "dev: first deploy OK" in out and "dev (preview): first preview OK" in out
    manifest = copy.deepcopy(preview_render("dev"))
    manifest["invokes"] = [{"token": SECRET_VERSION_READ, "args": {}}]
    (previews / "dev.json").write_text(json.dumps(manifest))
    assert main(["dev", *args]) == 1
    assert f"[preview-read-allowed] {SECRET_VERSION_READ}" in capsys.readouterr().out
    (previews / "dev.json").write_text(json.dumps(fresh_render("dev")))  # an update render
    assert main(["dev", *args]) == 2
    assert "not a preview render" in capsys.readouterr().err
