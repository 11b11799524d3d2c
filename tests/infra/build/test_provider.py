"""The image build's dynamic provider against a local fake of the REST APIs: the official
clients (REST transport) send real requests; the fake records and answers them."""

from __future__ import annotations

import re

import pytest
from pulumi.output import Unknown

from infra.build.cloud import Polling
from infra.build.outcome import BuildFailedError
from infra.build.provider import ImageBuildProvider
from infra.build.spec import INPUTS
from tests.infra.build.fakes import (
    BASE_IMAGE_URI,
    BUILD_NAME,
    DIGEST,
    LOG_URL,
    FakeBuildApis,
    build_state,
    error,
    spec,
    spec_inputs,
    succeeded,
)

FAST = Polling(interval_seconds=0.01, timeout_seconds=30)


def provider(fake: FakeBuildApis, polling: Polling = FAST) -> ImageBuildProvider:
    return ImageBuildProvider(endpoints=fake.endpoints, polling=polling)


def test_create_submits_a_buildpacks_build_of_the_archive_and_outputs_the_digest(
    fake_apis: FakeBuildApis,
) -> None:
    expected = spec()
    fake_apis.script(build_state("QUEUED"), build_state("WORKING"), succeeded(expected.image_uri))
    result = provider(fake_apis).create(spec_inputs())

    (submit,) = fake_apis.of("POST", "builds:submit")
    assert submit.path == "/v2/projects/switchboard-dev-000000/locations/europe-west1/builds:submit"
    body = dict(submit.body or {})
    *tags, submission = body.pop("tags")
    assert tags == ["switchboard", "service_gateway"]
    assert re.fullmatch(r"submission-[0-9a-f]{32}", submission)  # unique to this attempt
    assert body == {
        "storageSource": {
            "bucket": "switchboard-dev-000000-agent-sources",
            "object": "agents/gateway/6acdb428479e97012f00.tar.gz",
        },
        "imageUri": expected.image_name + ":6acdb428479e97012f00",
        "buildpackBuild": {
            "runtime": "python312",
            "functionTarget": "handle",
            "baseImage": BASE_IMAGE_URI,
            "enableAutomaticUpdates": True,
        },
        "serviceAccount": (
            "projects/switchboard-dev-000000/serviceAccounts/"
            "sb-builder@switchboard-dev-000000.iam.gserviceaccount.com"
        ),
    }
    reads = fake_apis.of("GET", "/builds/")
    assert len(reads) == 3
    assert {r.path for r in reads} == {f"/v1/{BUILD_NAME}"}  # the regional build, by name

    assert result.id == BUILD_NAME
    outs = result.outs or {}
    assert outs["image"] == f"{expected.image_name}@{DIGEST}"
    assert outs["digest"] == DIGEST
    assert outs["image_uri"] == expected.image_uri
    assert outs["log_url"] == LOG_URL
    assert outs["base_image_uri"] == BASE_IMAGE_URI
    assert outs["content_hash"] == expected.content_hash  # inputs stay in the state


def test_failed_build_fails_with_its_log_link(fake_apis: FakeBuildApis) -> None:
    fake_apis.script(
        build_state("WORKING"),
        build_state(
            "FAILURE",
            failureInfo={"type": "USER_BUILD_STEP", "detail": "Build step failure: pip install"},
            statusDetail="Build step failure: pip install",
        ),
    )
    with pytest.raises(BuildFailedError) as raised:
        provider(fake_apis).create(spec_inputs())
    message = str(raised.value)
    assert LOG_URL in message
    assert "FAILURE" in message
    assert "pip install" in message
    assert message.endswith("What to do: docs/runbooks/deploy-failures.md (a failed build).")
    assert raised.value.log_url == LOG_URL


@pytest.mark.parametrize("status", ["TIMEOUT", "CANCELLED", "INTERNAL_ERROR", "EXPIRED"])
def test_every_unsuccessful_end_state_fails(fake_apis: FakeBuildApis, status: str) -> None:
    fake_apis.script(build_state(status))
    with pytest.raises(BuildFailedError, match=status) as raised:
        provider(fake_apis).create(spec_inputs())
    assert raised.value.log_url == LOG_URL


def test_success_without_a_digest_for_the_image_is_a_failure(fake_apis: FakeBuildApis) -> None:
    fake_apis.script(build_state("SUCCESS", results={"images": []}))
    with pytest.raises(BuildFailedError, match="no single sha256 digest") as raised:
        provider(fake_apis).create(spec_inputs())
    assert raised.value.log_url == LOG_URL


def test_rate_limited_reads_are_retried(fake_apis: FakeBuildApis) -> None:
    fake_apis.script(
        error(429, "RESOURCE_EXHAUSTED", "slow down"),
        build_state("WORKING"),
        succeeded(spec().image_uri),
    )
    outs = provider(fake_apis).create(spec_inputs()).outs or {}
    assert outs["digest"] == DIGEST
    assert len(fake_apis.of("GET", "/builds/")) == 3


def test_a_forbidden_read_fails_at_once_naming_the_logs(fake_apis: FakeBuildApis) -> None:
    fake_apis.script(error(403, "PERMISSION_DENIED", "cloudbuild.builds.get denied"))
    with pytest.raises(BuildFailedError, match="denied") as raised:
        provider(fake_apis).create(spec_inputs())
    assert raised.value.log_url == LOG_URL
    assert len(fake_apis.of("GET", "/builds/")) == 1  # permanent: not retried


def test_a_refused_submit_fails_and_starts_nothing(fake_apis: FakeBuildApis) -> None:
    fake_apis.submit_status = 403
    with pytest.raises(Exception, match="denied"):
        provider(fake_apis).create(spec_inputs())
    assert fake_apis.of("GET", "/builds/") == []


def test_a_build_that_never_finishes_fails_after_the_bound(fake_apis: FakeBuildApis) -> None:
    fake_apis.script(build_state("WORKING"))
    bounded = Polling(interval_seconds=0.01, timeout_seconds=0.2)
    with pytest.raises(BuildFailedError, match="still not finished") as raised:
        provider(fake_apis, bounded).create(spec_inputs())
    assert raised.value.status == "WORKING"
    assert raised.value.log_url == LOG_URL


def _stored(**overrides: object) -> dict[str, object]:
    """A created build's state: its inputs plus outputs (as the engine passes ``olds``)."""
    return spec_inputs(**overrides) | {
        "image": f"{spec().image_name}@{DIGEST}",
        "digest": DIGEST,
        "__provider": "serialized",
    }


def test_unchanged_archive_is_no_change() -> None:
    result = ImageBuildProvider().diff(BUILD_NAME, _stored(), spec_inputs() | {"__provider": "x"})
    assert result.changes is False
    assert result.replaces == []


def test_changed_archive_is_a_new_build() -> None:
    news = spec_inputs(
        content_hash="7" * 64, source_object="agents/gateway/77777777777777777777.tar.gz"
    )
    result = ImageBuildProvider().diff(BUILD_NAME, _stored(), news)
    assert result.changes is True
    assert result.replaces == ["content_hash", "source_object"]
    assert result.delete_before_replace is False  # the old image serves until the new one runs


@pytest.mark.parametrize(
    ("field", "value"),
    [("runtime", "python313"), ("function_target", "other"), ("base_image", "x/y/z")],
)
def test_build_settings_that_shape_the_image_rebuild(field: str, value: str) -> None:
    result = ImageBuildProvider().diff(BUILD_NAME, _stored(), spec_inputs(**{field: value}))
    assert result.replaces == [field]


def test_a_new_build_identity_alone_updates_without_building(fake_apis: FakeBuildApis) -> None:
    other = "projects/switchboard-dev-000000/serviceAccounts/b@x.iam.gserviceaccount.com"
    news = spec_inputs(service_account=other)
    result = ImageBuildProvider().diff(BUILD_NAME, _stored(), news)
    assert result.changes is True
    assert result.replaces == []
    outs = provider(fake_apis).update(BUILD_NAME, _stored(), news).outs or {}
    assert outs["service_account"] == other
    assert outs["image"] == f"{spec().image_name}@{DIGEST}"  # the same image, not rebuilt
    assert fake_apis.received == []


def test_unknown_inputs_in_a_preview_replace_only_when_they_shape_the_image() -> None:
    news = spec_inputs(service_account=Unknown())
    result = ImageBuildProvider().diff(BUILD_NAME, _stored(), news)
    assert result.replaces == []
    assert ImageBuildProvider().check({}, news).failures == []


@pytest.mark.parametrize("field", INPUTS)
def test_any_one_unknown_input_passes_check(field: str) -> None:
    """What the real host passes for an unknown: a ``pulumi.output.Unknown`` object (the
    harness in tests/infra/dynamic_host drives the real host the same way)."""
    assert ImageBuildProvider().check({}, spec_inputs(**{field: Unknown()})).failures == []


def test_every_input_unknown_passes_check() -> None:
    news = {name: Unknown() for name in INPUTS}
    assert ImageBuildProvider().check({}, news).failures == []


def test_a_preview_still_names_a_malformed_known_input() -> None:
    news = spec_inputs(service_account=Unknown(), content_hash="abc")
    (failure,) = ImageBuildProvider().check({}, news).failures
    assert failure.property == "content_hash"


def test_check_names_the_malformed_input() -> None:
    (failure,) = ImageBuildProvider().check({}, spec_inputs(image_name="gateway:latest")).failures
    assert failure.property == "image_name"
    (failure,) = ImageBuildProvider().check({}, spec_inputs(content_hash="abc")).failures
    assert failure.property == "content_hash"
    assert ImageBuildProvider().check({}, spec_inputs()).failures == []


def test_delete_leaves_the_image_to_the_repository_cleanup(fake_apis: FakeBuildApis) -> None:
    provider(fake_apis).delete(BUILD_NAME, _stored())
    assert fake_apis.received == []


def test_every_call_is_billed_to_the_stacks_project(fake_apis: FakeBuildApis) -> None:
    """``x-goog-user-project`` on every request: a personal ADC login's own quota project
    often lacks the Run/Build APIs (403 SERVICE_DISABLED)."""
    fake_apis.script(build_state("WORKING"), succeeded(spec().image_uri))
    fake_apis.images.add(f"gateway@{DIGEST}")
    stored = provider(fake_apis).create(spec_inputs()).outs or {}
    provider(fake_apis).read(BUILD_NAME, stored)
    assert {r.path.split("/")[1] for r in fake_apis.received} == {"v1", "v2"}
    assert len(fake_apis.received) == 4
    for request in fake_apis.received:
        assert request.headers.get("x-goog-user-project") == "switchboard-dev-000000"


def test_a_submit_whose_operation_names_no_build_finds_it_by_its_tag(
    fake_apis: FakeBuildApis,
) -> None:
    fake_apis.metadata_names_build = False
    fake_apis.script(build_state("WORKING"), succeeded(spec().image_uri))
    outs = provider(fake_apis).create(spec_inputs()).outs or {}
    assert outs["digest"] == DIGEST
    (listed,) = fake_apis.of("GET", "/locations/europe-west1/builds")[:1]
    assert listed.query["filter"] == [f'tags="{fake_apis.submitted_tags[-1]}"']


def test_a_build_that_cannot_be_found_fails_naming_the_operation(
    fake_apis: FakeBuildApis,
) -> None:
    fake_apis.metadata_names_build = False
    fake_apis.listed = False
    fake_apis.script(build_state("WORKING"))
    with pytest.raises(BuildFailedError, match="operations/") as raised:
        provider(fake_apis, Polling(0.01, 30, lookup_pause_seconds=0.0)).create(spec_inputs())
    assert raised.value.status == "UNTRACKED"
    assert "gcloud builds list" in str(raised.value)
    assert "tags%3D%22submission-" in raised.value.log_url


def test_refresh_keeps_a_build_whose_image_exists(fake_apis: FakeBuildApis) -> None:
    fake_apis.images.add(f"gateway@{DIGEST}")
    result = provider(fake_apis).read(BUILD_NAME, _stored())
    assert result.id == BUILD_NAME
    (lookup,) = fake_apis.received
    assert lookup.path == (
        "/v1/projects/switchboard-dev-000000/locations/europe-west1/repositories/"
        f"switchboard-agents/dockerImages/gateway@{DIGEST}"
    )


def test_refresh_drops_a_build_whose_image_was_deleted(fake_apis: FakeBuildApis) -> None:
    result = provider(fake_apis).read(BUILD_NAME, _stored())
    assert result.id == ""
    assert result.outs == {}
