"""What a finished build means: the pushed image's digest, or a failure naming the logs."""

from __future__ import annotations

import pytest

from infra.build.outcome import (
    MAX_DETAIL,
    BuildFailedError,
    build_ref,
    built_image,
    is_finished,
)

NAME = "europe-west1-docker.pkg.dev/p-000001/switchboard-agents/gateway"
TAGGED = f"{NAME}:6acdb428479e97012f00"
DIGEST = "sha256:" + "0123456789abcdef" * 4
LOGS = "https://console.cloud.google.com/cloud-build/builds;region=europe-west1/b1?project=1"


def build(status: str, **fields: object) -> dict[str, object]:
    return {
        "name": "projects/p-000001/locations/europe-west1/builds/b1",
        "status": status,
        "log_url": LOGS,
        **fields,
    }


def test_success_gives_the_image_pinned_by_digest() -> None:
    done = build("SUCCESS", results={"images": [{"name": TAGGED, "digest": DIGEST}]})
    image = built_image(done, NAME, TAGGED, "base")
    assert image.image == f"{NAME}@{DIGEST}"
    assert image.log_url == LOGS
    assert image.base_image_uri == "base"


def test_the_digest_of_our_image_is_chosen_among_others() -> None:
    other = {
        "name": "europe-west1-docker.pkg.dev/p-000001/r/cache:1",
        "digest": "sha256:" + "f" * 64,
    }
    done = build("SUCCESS", results={"images": [other, {"name": TAGGED, "digest": DIGEST}]})
    assert built_image(done, NAME, TAGGED, "").digest == DIGEST


@pytest.mark.parametrize(
    "images",
    [
        [],
        [{"name": TAGGED, "digest": "sha256:short"}],
        [{"name": TAGGED}],
        [{"name": "a", "digest": DIGEST}, {"name": "b", "digest": DIGEST}],
    ],
)
def test_success_without_one_valid_digest_fails(images: list[dict[str, str]]) -> None:
    with pytest.raises(BuildFailedError, match="digest") as raised:
        built_image(build("SUCCESS", results={"images": images}), NAME, TAGGED, "")
    assert raised.value.log_url == LOGS


def test_failure_carries_detail_and_logs_bounded() -> None:
    failed = build("FAILURE", failure_info={"detail": "x" * 5000}, status_detail="step 2")
    with pytest.raises(BuildFailedError) as raised:
        built_image(failed, NAME, TAGGED, "")
    assert raised.value.log_url == LOGS
    assert len(raised.value.detail) <= MAX_DETAIL
    assert str(raised.value).endswith(f"logs: {LOGS}")


def test_running_states_are_not_finished() -> None:
    for status in ("STATUS_UNKNOWN", "PENDING", "QUEUED", "WORKING"):
        assert not is_finished(build(status))
    for status in ("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED", "EXPIRED", "INTERNAL_ERROR"):
        assert is_finished(build(status))


def test_an_unrecognised_end_state_is_a_failure_not_a_wait() -> None:
    assert is_finished(build("SOMETHING_NEW"))
    with pytest.raises(BuildFailedError, match="not recognised"):
        built_image(build("SOMETHING_NEW"), NAME, TAGGED, "")


def test_build_ref_reads_the_submitted_build() -> None:
    ref = build_ref({"name": "projects/p-000001/locations/europe-west1/builds/b1", "log_url": LOGS})
    assert (ref.project, ref.id, ref.log_url) == ("p-000001", "b1", LOGS)
    with pytest.raises(ValueError, match="no usable build name"):
        build_ref({"name": "operations/x"})
