"""The dynamic provider behind an image build: Pulumi's check/diff/create/read/update/delete
for one build.

It runs inside ``pulumi up`` in the engine's python dynamic-provider host
(``python -m pulumi.dynamic``, the program's virtualenv), from whatever directory the
engine starts it in: it is pickled by value (:mod:`infra.build.by_value`). Its logic lives
in :mod:`infra.build.spec`, :mod:`infra.build.outcome` and :mod:`infra.build.cloud`; this
module only maps Pulumi's calls onto them:

- ``check``: every known input is well formed (each problem names its input); in a
  preview an input that is another resource's output is unknown and checked later;
- ``diff``: a new build iff an image-shaping input changed (the archive's content hash
  above all); otherwise no change, so an unchanged tree never rebuilds. A resource whose
  stored provider is the old by-reference pickle gets one update (no build) that stores
  the by-value one;
- ``create``: submit, wait, output the image pinned by digest, or fail naming the logs;
- ``read`` (refresh): the image still in Artifact Registry at its digest keeps the
  resource; a deleted one (or repository) drops it, so the next ``up`` builds again;
- ``update``: only inputs that do not shape the image changed: record them, no build;
- ``delete``: nothing. The image stays in Artifact Registry, where the repository's
  cleanup policy removes old versions; deleting it here could pull the image from under
  a revision that still serves traffic while its replacement rolls out.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime import rpc

from infra.build.by_value import PROVIDER_KEY, by_value, first_global, is_by_value
from infra.build.cloud import Endpoints, GoogleBuildApi, Polling, run_build
from infra.build.outcome import BuiltImage
from infra.build.spec import INPUTS, BuildSpec, changed, input_errors, rebuild_needed

OUTPUTS: tuple[str, ...] = (
    "image",
    "digest",
    "image_uri",
    "build_name",
    "log_url",
    "base_image_uri",
    "base_image_warning",
)


def outputs_of(image: BuiltImage, image_uri: str, base_image_warning: str = "") -> dict[str, Any]:
    return {
        "image": image.image,
        "digest": image.digest,
        "image_uri": image_uri,
        "build_name": image.build_name,
        "log_url": image.log_url,
        "base_image_uri": image.base_image_uri,
        "base_image_warning": base_image_warning,
    }


def unknown_inputs(props: dict[str, Any]) -> frozenset[str]:
    """The inputs a preview does not know yet.

    The engine sends a value it cannot know yet as the string ``rpc.UNKNOWN`` inside the
    protobuf struct; the dynamic-provider host (``pulumi/dynamic/__main__.py``, ``Check``
    and ``Diff``) deserialises it with ``keep_unknowns=True`` into a
    ``pulumi.output.Unknown`` object (``pulumi/runtime/rpc.py``, ``deserialize_property``),
    a new one each time, never equal to anything. Both forms count, and so does a list or
    map holding one (``rpc.contains_unknowns``)."""
    return frozenset(
        name
        for name in INPUTS
        if props.get(name) == rpc.UNKNOWN or rpc.contains_unknowns(props.get(name))
    )


@by_value
class ImageBuildProvider(ResourceProvider):
    """Builds an agent archive into an image with Google's buildpacks (no local docker)."""

    serialize_as_secret_always = False  # it captures no secret: its state stays readable

    def __init__(self, endpoints: Endpoints | None = None, polling: Polling | None = None) -> None:
        self.endpoints = endpoints
        self.polling = polling or Polling()

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Every known input is checked; an unknown one is checked again once known (the
        engine refuses to go on after any check failure, a preview included)."""
        errors = input_errors(news, unknown_inputs(news))
        return CheckResult(news, [CheckFailure(e.field, e.reason) for e in errors])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = rebuild_needed(olds, news)
        changes = changed(olds, news) or _stored_by_reference(olds)
        return DiffResult(
            changes=bool(changes), replaces=replaces, stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        spec = BuildSpec.from_inputs(props)
        image, submitted = run_build(spec, self._api(spec.project), self.polling)
        outs = spec.inputs() | outputs_of(image, spec.image_uri, submitted.base_image_warning)
        return CreateResult(image.build_name, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh: keep the build while its image (by digest) is in Artifact Registry; an
        empty id tells the engine the resource is gone (``pulumi/dynamic/__main__.py``
        ``Read`` passes it on; the engine then drops it from the state)."""
        image_name, digest, project = (props.get(k) for k in ("image_name", "digest", "project"))
        if not (isinstance(image_name, str) and isinstance(digest, str) and digest):
            return ReadResult(id_, props)  # nothing recorded to look for: keep as it is
        if not self._api(str(project or "")).image_exists(image_name, digest):
            return ReadResult("", {})
        return ReadResult(id_, props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if rebuild_needed(olds, news):  # pragma: no cover - diff answers replace for these
            raise AssertionError("an image-shaping input changed: the engine must replace")
        spec = BuildSpec.from_inputs(news)
        return UpdateResult(spec.inputs() | {name: olds.get(name) for name in OUTPUTS})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None

    def _api(self, project: str) -> GoogleBuildApi:
        polling = self.polling or Polling()
        return GoogleBuildApi(
            self.endpoints, quota_project=project, lookup_pause_seconds=polling.lookup_pause_seconds
        )


def _stored_by_reference(olds: dict[str, Any]) -> bool:
    """The stored provider is a pickle naming a class by reference (made before
    :mod:`infra.build.by_value`): one update re-stores it by value."""
    stored = olds.get(PROVIDER_KEY)
    return first_global(stored) is not None and not is_by_value(stored)
