"""Running one build on Google's APIs with the official clients: Cloud Run Admin API v2
``Builds.SubmitBuild`` (a buildpacks build, as ``gcloud run deploy --source`` starts it),
then Cloud Build ``GetBuild`` until the build is finished.

The clients are imported here, lazily, and only when a build runs: importing the Pulumi
program or rendering it offline never loads them. Credentials are Application Default
Credentials (what the gcp provider uses) unless an endpoint override is given (tests
point both clients at a local fake of the REST API).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.build.outcome import (
    BuildFailedError,
    BuildRef,
    BuiltImage,
    build_ref,
    built_image,
    is_finished,
    status_of,
)
from infra.build.spec import BuildSpec

METADATA_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata"
TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
MAX_TRANSIENT_ERRORS = 20


@dataclass(frozen=True)
class Submitted:
    """What SubmitBuild answered: the build it started, and the base image to opt in to
    automatic base image updates with."""

    build: BuildRef
    base_image_uri: str
    base_image_warning: str


@dataclass(frozen=True)
class Endpoints:
    """API endpoint overrides (``http://127.0.0.1:PORT`` for a local fake); none in use."""

    run: str
    cloudbuild: str


class GoogleBuildApi:
    """The two official clients, REST transport, created on first use."""

    def __init__(self, endpoints: Endpoints | None = None) -> None:
        self._endpoints = endpoints
        self._run: Any = None
        self._cloudbuild: Any = None

    def _options(self, endpoint: str | None) -> dict[str, Any]:
        if self._endpoints is None or endpoint is None:
            return {"transport": "rest"}
        from google.auth.credentials import AnonymousCredentials

        return {
            "transport": "rest",
            "credentials": AnonymousCredentials(),
            "client_options": {"api_endpoint": endpoint},
        }

    def submit(self, spec: BuildSpec) -> Submitted:
        from google.cloud import run_v2
        from google.cloud.devtools import cloudbuild_v1

        if self._run is None:
            self._run = run_v2.BuildsClient(
                **self._options(self._endpoints.run if self._endpoints else None)
            )
        response = self._run.submit_build(request=run_v2.SubmitBuildRequest(spec.submit_request()))
        metadata = response.build_operation.metadata
        if metadata.type_url != METADATA_TYPE:
            raise BuildFailedError(
                spec.image_uri,
                "NOT_STARTED",
                f"SubmitBuild answered with operation metadata {metadata.type_url!r}",
                "",
            )
        build = cloudbuild_v1.BuildOperationMetadata.deserialize(metadata.value).build
        return Submitted(
            build=build_ref(_as_dict(cloudbuild_v1.Build, build)),
            base_image_uri=response.base_image_uri or spec.base_image,
            base_image_warning=response.base_image_warning,
        )

    def get(self, ref: BuildRef) -> dict[str, Any]:
        from google.cloud.devtools import cloudbuild_v1

        if self._cloudbuild is None:
            self._cloudbuild = cloudbuild_v1.CloudBuildClient(
                **self._options(self._endpoints.cloudbuild if self._endpoints else None)
            )
        # Only ``name``: a regional build is read at /v1/projects/*/locations/*/builds/*.
        build = self._cloudbuild.get_build(request=cloudbuild_v1.GetBuildRequest(name=ref.name))
        return _as_dict(cloudbuild_v1.Build, build)


def _as_dict(message_type: Any, message: Any) -> dict[str, Any]:
    return message_type.to_dict(message, use_integers_for_enums=False)


@dataclass(frozen=True)
class Polling:
    interval_seconds: float = 5.0
    timeout_seconds: float = 3600.0
    """Bounded: a build still running after this fails the deploy (it names the logs)."""


def run_build(
    spec: BuildSpec,
    api: GoogleBuildApi,
    polling: Polling = Polling(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[BuiltImage, Submitted]:
    """Submit the build, wait for it, and return the pushed image (pinned by digest)."""
    submitted = api.submit(spec)
    ref = submitted.build
    deadline = clock() + polling.timeout_seconds
    transient = 0
    while True:
        try:
            build = api.get(ref)
        except Exception as error:
            if not _transient(error) or transient >= MAX_TRANSIENT_ERRORS:
                raise BuildFailedError(
                    spec.image_uri, "UNREADABLE", f"reading build {ref.name}: {error}", ref.log_url
                ) from error
            transient += 1
            build = None
        if build is not None and is_finished(build):
            build["log_url"] = build.get("log_url") or ref.log_url
            image = built_image(build, spec.image_name, spec.image_uri, submitted.base_image_uri)
            return image, submitted
        if clock() >= deadline:
            status = status_of(build) if build is not None else "UNREADABLE"
            raise BuildFailedError(
                spec.image_uri,
                status,
                f"still not finished after {polling.timeout_seconds:.0f}s (build {ref.name})",
                ref.log_url,
            )
        sleep(polling.interval_seconds)


def _transient(error: Exception) -> bool:
    """429/5xx answers and dropped connections are worth another read; anything else (a
    403, a 404, a malformed answer) is not, and fails the deploy at once."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code in TRANSIENT_HTTP
    return isinstance(error, OSError)  # requests' connection errors are OSErrors
