"""The offline render: deterministic, normalised, safe to commit, and kept current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.offline.harness import REPO_ROOT, run_stack
from tests.infra.secrets.test_store import config_sourced
from tests.tools.conftest import fresh_render
from tools.diff.compare import compare
from tools.render.__main__ import COMMAND, main
from tools.render.manifest import FORMAT, STACKS, manifest_json, render_manifest, short_urn
from tools.render.normalise import SECRET, normalise, provider_marker, registration_inputs

RENDERED = REPO_ROOT / "rendered"


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _walk(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _walk(item)]
    return [value]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_manifest_is_current(stack: str) -> None:
    path = RENDERED / f"{stack}.json"
    assert path.is_file(), f"{path} is missing: run `{COMMAND}`"
    current = manifest_json(fresh_render(stack))
    if path.read_text(encoding="utf-8") == current:
        return
    diff = compare(json.loads(path.read_text(encoding="utf-8")), json.loads(current))
    changed = [f"{c.kind} {c.id}" for c in diff.changes][:15]
    pytest.fail(
        f"rendered/{stack}.json is stale; run `{COMMAND}` and commit the result.\n"
        f"First differences: {changed or ['formatting only']}"
    )


@pytest.mark.slow
def test_two_runs_are_byte_identical() -> None:
    first = manifest_json(render_manifest(run_stack("dev").registrations, "dev", REPO_ROOT))
    second = manifest_json(render_manifest(run_stack("dev").registrations, "dev", REPO_ROOT))
    assert first == second


def test_manifest_shape_and_references() -> None:
    manifest = fresh_render("prod")
    assert manifest["format"] == FORMAT
    assert manifest["stack"] == "prod"
    ids = [r["id"] for r in manifest["resources"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    known = set(ids)
    for resource in manifest["resources"]:
        assert resource["id"] == f"{resource['type']}::{resource['name']}"
        assert resource["parent"] is None or resource["parent"] in known, resource["id"]
        assert set(resource["dependencies"]) <= known, resource["id"]
        assert set(resource["options"]) == {
            "protect",
            "deleteBeforeReplace",
            "replaceOnChanges",
            "ignoreChanges",
            "retainOnDelete",
        }
    subscription = next(
        r for r in manifest["resources"] if r["id"].endswith("::ledger-on-payments")
    )
    assert subscription["parent"] == "switchboard:agent:PushSubscription::ledger-on-payments"
    assert subscription["options"]["replaceOnChanges"] == ["filter"]
    assert sum(manifest["summary"].values()) == len(ids)


def test_numbers_are_normalised_and_no_absolute_paths() -> None:
    manifest = fresh_render("dev")
    floats = [v for v in _walk(manifest) if isinstance(v, float) and v.is_integer()]
    assert floats == []
    text = manifest_json(manifest)
    assert str(REPO_ROOT) not in text
    gateway = next(r for r in manifest["resources"] if r["id"].endswith("Service::gateway"))
    assert gateway["inputs"]["template"]["scaling"]["maxInstanceCount"] == 3
    source = next(r for r in manifest["resources"] if r["name"] == "ledger-source")
    asset = source["inputs"]["source"]
    assert asset["$asset"] == "file"
    assert asset["path"].startswith(".build/archives/ledger/")
    assert len(asset["sha256"]) == 64


@pytest.mark.slow
def test_secret_values_are_masked() -> None:
    run = run_stack("dev", overrides=config_sourced("dev", "stripe-api-key", "sk_test_123"))
    manifest = render_manifest(run.registrations, "dev", REPO_ROOT)
    text = manifest_json(manifest)
    assert "sk_test_123" not in text
    version = next(r for r in manifest["resources"] if r["name"] == "stripe-api-key-from-config")
    assert version["inputs"]["secretData"] == SECRET


def test_normalise_unit_cases(tmp_path: Path) -> None:
    assert normalise({"b": 5.0, "a": [1.5, True, None]}, tmp_path) == {
        "a": [1.5, True, None],
        "b": 5,
    }
    assert list(normalise({"b": 1, "a": 2}, tmp_path)) == ["a", "b"]
    assert normalise(f"{tmp_path}/x/y.zip", tmp_path) == "x/y.zip"
    assert short_urn("urn:pulumi:dev::switchboard::a:b:C$gcp:x/y:Z::name") == "gcp:x/y:Z::name"


def test_cli_writes_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tools.render.__main__ as cli

    monkeypatch.setattr(
        cli, "render_stack", lambda stack, functions_root=None, preview=False: fresh_render(stack)
    )
    assert main(["dev", "--out", str(tmp_path), "--quiet"]) == 0
    assert json.loads((tmp_path / "dev.json").read_text())["stack"] == "dev"
    assert main(["dev", "--out", str(tmp_path), "--check", "--quiet"]) == 0
    (tmp_path / "dev.json").write_text("{}\n")
    assert main(["dev", "--out", str(tmp_path), "--check", "--quiet"]) == 1
    assert COMMAND in capsys.readouterr().err


def test_zip_digest_ignores_compression(tmp_path: Path) -> None:
    import zipfile

    from pulumi import asset

    for name, level in (("a.zip", 1), ("b.zip", 9)):
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
            z.writestr("main.py", "print('hello')\n" * 50)
    a = normalise(asset.FileAsset(str(tmp_path / "a.zip")), tmp_path)
    b = normalise(asset.FileAsset(str(tmp_path / "b.zip")), tmp_path)
    assert (tmp_path / "a.zip").read_bytes() != (tmp_path / "b.zip").read_bytes()
    assert a["sha256"] == b["sha256"]
    assert a["path"] == "a.zip"


def test_a_dynamic_provider_becomes_a_marker_naming_its_class() -> None:
    from pulumi.dynamic.dynamic import serialize_provider
    from pulumi.runtime import rpc

    from infra.build.provider import ImageBuildProvider

    serialized = serialize_provider(ImageBuildProvider())
    marker = "[dynamic provider infra.build.provider.ImageBuildProvider]"
    assert provider_marker(serialized) == marker
    assert provider_marker(rpc.wrap_rpc_secret(serialized)) == marker
    assert provider_marker("not base64 at all") == "[dynamic provider]"
    assert provider_marker("aGVsbG8=") == "[dynamic provider]"  # base64, not a pickle
    inputs = {"__provider": serialized, "image_name": "x"}
    dynamic = registration_inputs("pulumi-python:dynamic:Resource", inputs)
    assert dynamic == {"__provider": marker, "image_name": "x"}
    assert registration_inputs("gcp:storage/bucket:Bucket", inputs) is inputs
