"""The image build's provider (infra/build) through the real host, against the local fake
of Cloud Run, Cloud Build and Artifact Registry (tests/infra/build/fakes.py)."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.proto import provider_pb2

from infra.build.cloud import Polling
from infra.build.provider import OUTPUTS, ImageBuildProvider
from tests.infra.build import fakes
from tests.infra.dynamic_host.cases import (
    ProviderCases,
    pickled,
    pickled_by_another_run,
    pickled_by_reference,
)
from tests.infra.dynamic_host.host import PROVIDER_KEY, DynamicHost

URN = (
    "urn:pulumi:dev::switchboard::switchboard:agent:Agent$switchboard:build:AgentImage"
    "$pulumi-python:dynamic:Resource::gateway-build"
)
FAST = Polling(interval_seconds=0.01, timeout_seconds=30, lookup_pause_seconds=0.0)
DIFF_NONE = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME


def stored_outputs() -> dict[str, Any]:
    spec = fakes.spec()
    return fakes.spec_inputs() | {
        "image": f"{spec.image_name}@{fakes.DIGEST}",
        "digest": fakes.DIGEST,
        "image_uri": spec.image_uri,
        "build_name": fakes.BUILD_NAME,
        "log_url": fakes.LOG_URL,
        "base_image_uri": fakes.BASE_IMAGE_URI,
        "base_image_warning": "",
    }


def lifecycle(host: DynamicHost, fake: fakes.FakeBuildApis) -> None:
    """A first up, a second up with nothing changed, a new archive, a new build identity,
    a refresh with the image present and deleted, a destroy; and a stack stored before
    by-value pickling."""

    def provider() -> str:  # a fresh pickle per "program run", as each `up` makes one
        return pickled(ImageBuildProvider(endpoints=fake.endpoints, polling=FAST))

    inputs = fakes.spec_inputs() | {PROVIDER_KEY: provider()}
    host.configure()

    checked = host.check(URN, inputs)
    assert list(checked.failures) == [], checked.failures

    fake.script(fakes.build_state("WORKING"), fakes.succeeded(fakes.spec().image_uri))
    build_id, outputs = host.create(URN, inputs)
    assert build_id == fakes.BUILD_NAME
    assert outputs["image"] == f"{fakes.spec().image_name}@{fakes.DIGEST}"
    assert outputs[PROVIDER_KEY] == inputs[PROVIDER_KEY]
    (submit,) = fake.of("POST", "builds:submit")
    assert submit.headers.get("x-goog-user-project") == fakes.PROJECT

    again = pickled_by_another_run(
        "from infra.build.cloud import Endpoints, Polling\n"
        "from infra.build.provider import ImageBuildProvider",
        f"ImageBuildProvider({fake.endpoints!r}, {FAST!r})",
    )
    second = fakes.spec_inputs() | {PROVIDER_KEY: again}
    assert second[PROVIDER_KEY] != inputs[PROVIDER_KEY]  # each run pickles anew...
    unchanged = host.diff(URN, build_id, outputs, second, inputs)
    assert unchanged.changes == DIFF_NONE, unchanged  # ...and that is no change
    assert list(unchanged.replaces) == []

    new_archive = second | {
        "content_hash": "7" * 64,
        "source_object": "agents/gateway/77777777777777777777.tar.gz",
    }
    replaced = host.diff(URN, build_id, outputs, new_archive, inputs)
    assert replaced.changes == DIFF_SOME
    assert list(replaced.replaces) == ["content_hash", "source_object"]
    assert replaced.deleteBeforeReplace is False

    other = f"projects/{fakes.PROJECT}/serviceAccounts/b@{fakes.PROJECT}.iam.gserviceaccount.com"
    new_identity = second | {"service_account": other}
    updating = host.diff(URN, build_id, outputs, new_identity, inputs)
    assert (updating.changes, list(updating.replaces)) == (DIFF_SOME, [])
    requests_before = len(fake.received)
    updated = host.update(URN, build_id, outputs, new_identity, inputs)
    assert updated["service_account"] == other
    assert updated["image"] == outputs["image"]
    assert len(fake.received) == requests_before  # no build

    fake.images.add(f"gateway@{fakes.DIGEST}")
    kept_id, kept = host.read(URN, build_id, updated, new_identity)
    assert kept_id == build_id
    assert kept["digest"] == fakes.DIGEST
    fake.images.clear()  # someone deleted the image
    gone_id, _ = host.read(URN, build_id, updated, new_identity)
    assert gone_id == ""  # the engine drops it from the state; the next up builds again

    requests_before = len(fake.received)
    host.delete(URN, build_id, updated, new_identity)
    assert len(fake.received) == requests_before  # the image stays for the cleanup policy

    legacy = outputs | {
        PROVIDER_KEY: pickled_by_reference(ImageBuildProvider(fake.endpoints, FAST))
    }
    migrating = host.diff(URN, build_id, legacy, second, inputs)
    assert (migrating.changes, list(migrating.replaces)) == (DIFF_SOME, [])
    migrated = host.update(URN, build_id, legacy, second, inputs)
    assert migrated[PROVIDER_KEY] == second[PROVIDER_KEY]  # stored by value from now on


CASES = ProviderCases(
    outputs=OUTPUTS, world=fakes.running_fake, lifecycle=lifecycle, stored_outputs=stored_outputs
)
