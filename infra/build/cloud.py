"""Running one build on Google's APIs with the official clients: Cloud Run Admin API v2
``Builds.SubmitBuild`` (a buildpacks build, as ``gcloud run deploy --source`` starts it),
then Cloud Build ``GetBuild`` until the build is finished; and, on refresh, Artifact
Registry ``GetDockerImage`` to tell whether the built image still exists.

The clients are imported here, lazily, and only when a build runs: importing the Pulumi
program or rendering it offline never loads them. Credentials are Application Default
Credentials (what the gcp provider uses) unless an endpoint override is given (tests
point the clients at a local fake of the REST APIs, with a fixed token).

Every call is billed to the stack's project (``x-goog-user-project``): with a personal
``gcloud auth application-default login`` the ADC quota project is whatever project that
login named, often one without the Run or Cloud Build API, which answers 403
SERVICE_DISABLED. A generated client applies ``client_options.quota_project_id`` only to
credentials it finds itself (``google/cloud/run_v2/services/builds/transports/base.py``),
so the credentials are resolved here and given the quota project explicitly
(``google.auth.credentials.CredentialsWithQuotaProject.with_quota_project``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

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
    artifactregistry: str = ""


CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
FAKE_TOKEN = "local-fake-token"
"""Sent only to an overridden (local) endpoint."""
LOOKUP_ATTEMPTS = 6


class GoogleBuildApi:
    """The official clients, REST transport, created on first use; every call is billed
    to ``quota_project`` (the stack's project)."""

    def __init__(
        self,
        endpoints: Endpoints | None = None,
        quota_project: str = "",
        lookup_pause_seconds: float = 2.0,
    ) -> None:
        self._endpoints = endpoints
        self._quota_project = quota_project
        self._lookup_pause = lookup_pause_seconds
        self._clients: dict[str, Any] = {}

    def _credentials(self) -> Any:
        if self._endpoints is None:
            import google.auth

            credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
        else:
            from google.oauth2.credentials import Credentials

            credentials = Credentials(token=FAKE_TOKEN)
        if self._quota_project and hasattr(credentials, "with_quota_project"):
            credentials = credentials.with_quota_project(self._quota_project)
        return credentials

    def _client(self, api: str, factory: Callable[..., Any]) -> Any:
        if api not in self._clients:
            options: dict[str, Any] = {}
            if self._quota_project:
                options["quota_project_id"] = self._quota_project
            endpoint = getattr(self._endpoints, api, "") if self._endpoints else ""
            if endpoint:
                options["api_endpoint"] = endpoint
            self._clients[api] = factory(
                transport="rest", credentials=self._credentials(), client_options=options
            )
        return self._clients[api]

    def submit(self, spec: BuildSpec, submission: str) -> Submitted:
        """Start the build; ``submission`` is a tag unique to this attempt, so the build can
        be found again if the operation's metadata does not name it."""
        from google.cloud import run_v2
        from google.cloud.devtools import cloudbuild_v1

        client = self._client("run", run_v2.BuildsClient)
        request = spec.submit_request()
        request["tags"] = [*request["tags"], submission]
        response = client.submit_build(request=run_v2.SubmitBuildRequest(request))
        operation = response.build_operation
        ref = None
        if operation.metadata.type_url == METADATA_TYPE:
            build = cloudbuild_v1.BuildOperationMetadata.deserialize(operation.metadata.value)
            try:
                ref = build_ref(_as_dict(cloudbuild_v1.Build, build.build))
            except ValueError:
                ref = None
        if ref is None:
            ref = self._find(spec, submission, operation.name)
        return Submitted(
            build=ref,
            base_image_uri=response.base_image_uri or spec.base_image,
            base_image_warning=response.base_image_warning,
        )

    def _find(self, spec: BuildSpec, submission: str, operation: str) -> BuildRef:
        """The build this attempt started, by its unique tag (Cloud Build ``ListBuilds``
        with ``filter=tags="<tag>"``), when SubmitBuild's operation metadata named none.
        A build that cannot be found fails the deploy naming the operation and the tag,
        so it is never left running unnoticed."""
        from google.cloud.devtools import cloudbuild_v1

        client = self._client("cloudbuild", cloudbuild_v1.CloudBuildClient)
        # Only ``parent``: the regional form, /v1/projects/*/locations/*/builds (with
        # ``project_id`` set the REST transport picks the global /v1/projects/*/builds).
        request = cloudbuild_v1.ListBuildsRequest(parent=spec.parent, filter=f'tags="{submission}"')
        for attempt in range(LOOKUP_ATTEMPTS):
            for build in client.list_builds(request=request):
                return build_ref(_as_dict(cloudbuild_v1.Build, build))
            if attempt + 1 < LOOKUP_ATTEMPTS:
                time.sleep(self._lookup_pause * (attempt + 1))
        console = (
            f"https://console.cloud.google.com/cloud-build/builds;region={spec.region}"
            f"?project={spec.project}&query=tags%3D%22{submission}%22"
        )
        raise BuildFailedError(
            spec.image_uri,
            "UNTRACKED",
            f"SubmitBuild started operation {operation or '(unnamed)'} but named no build, and"
            f" no build tagged {submission} was found; check it with `gcloud builds list"
            f" --region={spec.region} --project={spec.project} --filter='tags={submission}'`",
            console,
        )

    def get(self, ref: BuildRef) -> dict[str, Any]:
        from google.cloud.devtools import cloudbuild_v1

        client = self._client("cloudbuild", cloudbuild_v1.CloudBuildClient)
        # Only ``name``: a regional build is read at /v1/projects/*/locations/*/builds/*.
        build = client.get_build(request=cloudbuild_v1.GetBuildRequest(name=ref.name))
        return _as_dict(cloudbuild_v1.Build, build)

    def image_exists(self, image_name: str, digest: str) -> bool:
        """Whether ``<image_name>@<digest>`` is still in Artifact Registry
        (``projects.locations.repositories.dockerImages.get``; a 404 means it, or its
        repository, is gone; any other error is raised, never taken for "gone")."""
        from google.api_core import exceptions
        from google.cloud import artifactregistry_v1

        client = self._client("artifactregistry", artifactregistry_v1.ArtifactRegistryClient)
        try:
            client.get_docker_image(name=docker_image_resource(image_name, digest))
        except exceptions.NotFound:
            return False
        return True


def docker_image_resource(image_name: str, digest: str) -> str:
    """``projects/P/locations/L/repositories/R/dockerImages/<image>@<digest>`` for
    ``L-docker.pkg.dev/P/R/<image>`` (slashes in the image path escaped as ``%2F``, as the
    DockerImage ``name`` field documents)."""
    host, project, repository, image = image_name.split("/", 3)
    location = host.removesuffix("-docker.pkg.dev")
    return (
        f"projects/{project}/locations/{location}/repositories/{repository}"
        f"/dockerImages/{quote(image, safe='')}@{digest}"
    )


def _as_dict(message_type: Any, message: Any) -> dict[str, Any]:
    return message_type.to_dict(message, use_integers_for_enums=False)


@dataclass(frozen=True)
class Polling:
    interval_seconds: float = 5.0
    timeout_seconds: float = 3600.0
    """Bounded: a build still running after this fails the deploy (it names the logs)."""
    lookup_pause_seconds: float = 2.0
    """Between looks for a build SubmitBuild did not name (a few, growing)."""


def run_build(
    spec: BuildSpec,
    api: GoogleBuildApi,
    polling: Polling = Polling(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[BuiltImage, Submitted]:
    """Submit the build, wait for it, and return the pushed image (pinned by digest)."""
    submitted = api.submit(spec, submission_tag())
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


def submission_tag() -> str:
    """A Cloud Build tag unique to one submission (``[\\w][\\w.-]{0,127}``)."""
    return f"submission-{uuid.uuid4().hex}"


def _transient(error: Exception) -> bool:
    """429/5xx answers and dropped connections are worth another read; anything else (a
    403, a 404, a malformed answer) is not, and fails the deploy at once."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code in TRANSIENT_HTTP
    return isinstance(error, OSError)  # requests' connection errors are OSErrors
