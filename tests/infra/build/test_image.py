"""The image build in the real program, under Pulumi's mocks: what every Cloud Run agent's
service runs, what the build waits for, and when the image changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.build import RESOURCE_TYPE
from infra.catalogue import load_catalogue
from infra.offline.harness import REPO_ROOT, Run, run_stack
from infra.offline.mocks import Registration, mock_digest
from tests.infra.test_program import rendered
from tools.render.manifest import manifest_json, render_manifest

SERVICE = "gcp:cloudrunv2/service:Service"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
BUILD_APIS = ("artifactregistry", "cloudbuild", "run")


def run_agents() -> list[str]:
    return sorted(a.name for a in load_catalogue().agents.values() if a.platform == "run")


def builds(run: Run) -> dict[str, Registration]:
    return {
        r.name.removesuffix("-build"): r
        for r in run.of_type(RESOURCE_TYPE)
        if "image_name" in r.inputs
    }


def container_image(service: Registration) -> str:
    return service.inputs["template"]["containers"][0]["image"]


def test_every_run_agent_runs_its_built_image_pinned_by_digest() -> None:
    run = rendered("dev")
    found = builds(run)
    assert sorted(found) == run_agents()
    services = {r.name: r for r in run.of_type(SERVICE)}
    objects = {r.name: r for r in run.of_type("gcp:storage/bucketObject:BucketObject")}
    for agent, build in found.items():
        inputs = build.inputs
        assert inputs["image_name"] == (
            f"europe-west1-docker.pkg.dev/{inputs['project']}/switchboard-agents/{agent}"
        )
        source = objects[f"{agent}-source"].inputs["name"]
        assert inputs["source_object"] == source  # the same archive the object uploads
        # a .tar.gz: what SubmitBuild's storage source takes (infra/packaging/archive.py)
        assert source == f"agents/{agent}/{inputs['content_hash'][:20]}.tar.gz"
        assert inputs["service_account"].endswith(
            f"/serviceAccounts/sb-builder@{inputs['project']}.iam.gserviceaccount.com"
        )
        service = services[agent]
        image = container_image(service)
        assert (
            image
            == f"{inputs['image_name']}@{mock_digest(inputs['image_name'], inputs['content_hash'])}"
        )
        assert build.urn in service.dependencies
        config = service.inputs["buildConfig"]
        assert config["imageUri"] == f"{inputs['image_name']}:{inputs['content_hash'][:20]}"
        assert config["sourceLocation"] == f"gs://{inputs['source_bucket']}/{source}"


def test_functions_build_themselves() -> None:
    run = rendered("dev")
    functions = {r.name for r in run.of_type(FUNCTION)}
    assert functions
    assert not functions & set(builds(run))


def test_build_waits_for_the_archive_the_builder_grants_and_the_apis() -> None:
    run = rendered("dev")
    by_urn = {r.urn: r for r in run.registrations}
    for agent, build in builds(run).items():
        waits_for = {(by_urn[u].type, by_urn[u].name) for u in build.dependencies if u in by_urn}
        assert ("gcp:storage/bucketObject:BucketObject", f"{agent}-source") in waits_for
        assert ("gcp:projects/iAMMember:IAMMember", "builder-log-writer") in waits_for
        assert (
            "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
            "builder-image-writer",
        ) in waits_for
        assert ("gcp:storage/bucketIAMMember:BucketIAMMember", "builder-source-reader") in waits_for
        for api in BUILD_APIS:
            assert ("gcp:projects/service:Service", api) in waits_for
        parent = by_urn[build.parent]
        assert (parent.type, parent.name) == ("switchboard:build:AgentImage", f"{agent}-image")


def _gateway(functions_root: Path) -> tuple[Registration, Registration]:
    run = run_stack("dev", functions_root=functions_root)
    (service,) = [r for r in run.of_type(SERVICE) if r.name == "gateway"]
    return builds(run)["gateway"], service


def test_one_byte_of_code_changes_the_hash_and_the_image(functions_copy: Path) -> None:
    before_build, before_service = _gateway(functions_copy)
    main = functions_copy / "gateway" / "main.py"
    main.write_bytes(main.read_bytes() + b"\n")
    after_build, after_service = _gateway(functions_copy)
    assert after_build.inputs["content_hash"] != before_build.inputs["content_hash"]
    assert container_image(after_service) != container_image(before_service)
    assert container_image(after_service).startswith(after_build.inputs["image_name"] + "@sha256:")


def test_an_unchanged_tree_renders_identically(functions_copy: Path) -> None:
    first = run_stack("dev", functions_root=functions_copy).registrations
    second = run_stack("dev", functions_root=functions_copy).registrations
    assert manifest_json(render_manifest(first, "dev", REPO_ROOT)) == manifest_json(
        render_manifest(second, "dev", REPO_ROOT)
    )


def test_the_render_shows_the_provider_as_a_marker() -> None:
    run = rendered("dev")
    manifest = render_manifest(run.registrations, "dev", REPO_ROOT)
    (build,) = [r for r in manifest["resources"] if r["id"] == f"{RESOURCE_TYPE}::gateway-build"]
    assert build["inputs"]["__provider"] == (
        "[dynamic provider infra.build.provider.ImageBuildProvider]"
    )


def test_the_serialized_provider_loads_outside_the_repository(tmp_path: Path) -> None:
    """The engine's dynamic-provider host unpickles ``__provider`` with dill wherever it
    was started: the provider travels by value (infra/build/by_value.py), so it loads in a
    directory where ``infra`` is not importable, and still loads no Google client."""
    build = builds(rendered("dev"))["gateway"]
    serialized = build.inputs["__provider"]
    assert isinstance(serialized, str)  # not a secret: it captures none
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "print(type(provider).__module__, type(provider).__name__)\n"
        "print(sorted(m for m in sys.modules if m.startswith('google.cloud.run')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=serialized,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["infra.build.provider ImageBuildProvider", "[]"]
