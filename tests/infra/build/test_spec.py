"""A build's inputs, checked, and the SubmitBuild request they make (no clients)."""

from __future__ import annotations

import pytest

from infra.build.spec import (
    IMAGE_INPUTS,
    INPUTS,
    BuildSpec,
    BuildSpecError,
    changed,
    image_name_for,
    rebuild_needed,
)
from tests.infra.build.fakes import spec, spec_inputs


def test_request_is_a_buildpacks_function_build_of_the_archive() -> None:
    built = spec()
    assert built.submit_request() == {
        "parent": "projects/switchboard-dev-000000/locations/europe-west1",
        "storage_source": {
            "bucket": "switchboard-dev-000000-agent-sources",
            "object_": "agents/gateway/6acdb428479e97012f00.tar.gz",
        },
        "image_uri": f"{built.image_name}:{built.content_hash[:20]}",
        "buildpack_build": {
            "runtime": "python312",
            "function_target": "handle",
            "base_image": built.base_image,
            "enable_automatic_updates": True,
        },
        "service_account": built.service_account,
        "tags": ["switchboard", "service_gateway"],
    }
    assert built.source_location == (
        "gs://switchboard-dev-000000-agent-sources/agents/gateway/6acdb428479e97012f00.tar.gz"
    )


def test_inputs_round_trip() -> None:
    built = spec()
    assert BuildSpec.from_inputs(built.inputs()) == built
    assert set(built.inputs()) == set(INPUTS)


def test_image_name_is_the_repository_path() -> None:
    assert image_name_for("europe-west1", "p-000001", "switchboard-agents", "gateway") == (
        "europe-west1-docker.pkg.dev/p-000001/switchboard-agents/gateway"
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("image_name", "europe-west1-docker.pkg.dev/switchboard-dev-000000/r/g:tag", "no tag"),
        (
            "image_name",
            "europe-west1-docker.pkg.dev/switchboard-dev-000000/r/g@sha256:00",
            "no tag",
        ),
        ("image_name", "us-docker.pkg.dev/switchboard-dev-000000/r/gateway", "not in"),
        ("image_name", "europe-west1-docker.pkg.dev/other-project-1/r/gateway", "not in"),
        ("content_hash", "ABC", "hex"),
        ("content_hash", "a" * 65, "hex"),
        ("runtime", "python 3.12", "runtime id"),
        ("function_target", "handle; rm -rf /", "function name"),
        ("service_account", "sb-builder@x.iam.gserviceaccount.com", "serviceAccounts"),
        ("source_object", "", "empty"),
        ("base_image", "x" * 2000, "longer than"),
        ("tags", ["bad tag"], "tags"),
        ("tags", ["t"] * 17, "at most"),
        ("enable_automatic_updates", "yes", "true or false"),
        ("project", None, "missing"),
    ],
)
def test_malformed_input_is_named(field: str, value: object, reason: str) -> None:
    with pytest.raises(BuildSpecError, match=reason) as raised:
        BuildSpec.from_inputs(spec_inputs(**{field: value}))
    assert raised.value.field == field


def test_only_image_shaping_inputs_need_a_rebuild() -> None:
    olds = spec_inputs()
    assert rebuild_needed(olds, spec_inputs()) == []
    assert changed(olds, spec_inputs()) == []
    assert changed(olds, spec_inputs(tags=("switchboard", "service_gateway"))) == []
    for field in IMAGE_INPUTS:
        news = olds | {field: "changed"}
        assert rebuild_needed(olds, news) == [field]
    news = spec_inputs(service_account="projects/p/serviceAccounts/x@p.iam.gserviceaccount.com")
    assert rebuild_needed(olds, news) == []
    assert changed(olds, news) == ["service_account"]
