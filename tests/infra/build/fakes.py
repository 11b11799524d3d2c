"""A local fake of the two REST APIs an image build uses, for the official clients to call.

``FakeBuildApis`` listens on 127.0.0.1 and answers, in the APIs' own JSON:

- Cloud Run Admin API v2 ``POST /v2/projects/*/locations/*/builds:submit`` with a
  SubmitBuildResponse whose operation metadata is a Cloud Build BuildOperationMetadata;
- Cloud Build ``GET /v1/projects/*/locations/*/builds/*`` with the scripted build states,
  one per read (the last one repeats), and ``GET .../builds?filter=tags="<tag>"``
  (ListBuilds) with the build submitted under that tag;
- Artifact Registry ``GET /v1/projects/*/locations/*/repositories/*/dockerImages/*`` with
  the images in ``images`` (``<image>@<digest>``), 404 for any other.

Every request is recorded (method, path, query, JSON body) for the tests to assert on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from infra.build.cloud import METADATA_TYPE, Endpoints
from infra.build.spec import BuildSpec

PROJECT = "switchboard-dev-000000"
REGION = "europe-west1"
BUILD_ID = "0f3a5c6e-0000-4000-8000-00000000b1d5"
BUILD_NAME = f"projects/{PROJECT}/locations/{REGION}/builds/{BUILD_ID}"
LOG_URL = (
    f"https://console.cloud.google.com/cloud-build/builds;region={REGION}/{BUILD_ID}"
    f"?project=123456789012"
)
OPERATION_NAME = f"projects/{PROJECT}/locations/{REGION}/operations/{BUILD_ID}"
DIGEST = "sha256:" + "ab" * 32
BASE_IMAGE_URI = f"{REGION}-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python312"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeBuildApis:
    """Scripted answers; ``builds`` are served in order to successive GetBuild calls."""

    builds: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    submit_status: int = 200
    base_image_uri: str = BASE_IMAGE_URI
    received: list[Received] = field(default_factory=list)
    endpoint: str = ""
    metadata_names_build: bool = True
    """False: SubmitBuild's operation metadata carries no build (the build still starts)."""
    images: set[str] = field(default_factory=set)
    """Docker images present, as ``<image path>@<digest>`` (``gateway@sha256:...``)."""
    submitted_tags: list[str] = field(default_factory=list)
    listed: bool = True
    """False: ListBuilds never shows the submitted build."""

    def script(self, *states: tuple[int, dict[str, Any]]) -> None:
        self.builds = list(states)

    def next_build(self) -> tuple[int, dict[str, Any]]:
        if len(self.builds) > 1:
            return self.builds.pop(0)
        return self.builds[0]

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            run=self.endpoint, cloudbuild=self.endpoint, artifactregistry=self.endpoint
        )

    def of(self, method: str, fragment: str) -> list[Received]:
        return [r for r in self.received if r.method == method and fragment in r.path]


def build_state(status: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """A Cloud Build ``Build`` as the REST API returns it (camelCase JSON)."""
    return 200, {
        "id": BUILD_ID,
        "name": BUILD_NAME,
        "projectId": PROJECT,
        "status": status,
        "logUrl": LOG_URL,
        **fields,
    }


def succeeded(image_uri: str, digest: str = DIGEST) -> tuple[int, dict[str, Any]]:
    return build_state("SUCCESS", results={"images": [{"name": image_uri, "digest": digest}]})


def error(code: int, status: str, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "status": status, "message": message}}


def _handler(fake: FakeBuildApis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            return None

        def _answer(self, code: int, document: dict[str, Any]) -> None:
            payload = json.dumps(document).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _record(self) -> Received:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            received = Received(
                self.command,
                unquote(url.path),
                parse_qs(url.query),
                json.loads(raw) if raw else None,
                {k.lower(): v for k, v in self.headers.items()},
            )
            fake.received.append(received)
            return received

        def do_POST(self) -> None:
            received = self._record()
            if not received.path.endswith("/builds:submit"):
                self._answer(*error(404, "NOT_FOUND", f"no such method {received.path}"))
                return
            if fake.submit_status != 200:
                self._answer(*error(fake.submit_status, "PERMISSION_DENIED", "denied"))
                return
            fake.submitted_tags = list((received.body or {}).get("tags") or [])
            queued = build_state("QUEUED")[1]
            operation: dict[str, Any] = {"name": OPERATION_NAME}
            if fake.metadata_names_build:
                operation["metadata"] = {"@type": METADATA_TYPE, "build": queued}
            self._answer(200, {"buildOperation": operation, "baseImageUri": fake.base_image_uri})

        def do_GET(self) -> None:
            received = self._record()
            if received.path == f"/v1/{BUILD_NAME}":
                self._answer(*fake.next_build())
            elif received.path == f"/v1/projects/{PROJECT}/locations/{REGION}/builds":
                wanted = (received.query.get("filter") or [""])[0]
                found = [t for t in fake.submitted_tags if wanted == f'tags="{t}"']
                builds = [build_state("WORKING")[1]] if found and fake.listed else []
                self._answer(200, {"builds": builds} if builds else {})
            elif "/dockerImages/" in received.path:
                image = received.path.rsplit("/dockerImages/", 1)[1]
                if image in fake.images:
                    self._answer(200, {"name": received.path.removeprefix("/v1/"), "uri": image})
                else:
                    self._answer(*error(404, "NOT_FOUND", f"no image {image}"))
            else:
                self._answer(*error(404, "NOT_FOUND", f"nothing at {received.path}"))

    return Handler


@pytest.fixture
def fake_apis() -> Iterator[FakeBuildApis]:
    with running_fake() as fake:
        yield fake


@contextmanager
def running_fake() -> Iterator[FakeBuildApis]:
    """A fake listening on a free 127.0.0.1 port until the block ends."""
    fake = FakeBuildApis()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def spec_inputs(**overrides: Any) -> dict[str, Any]:
    """The gateway's build inputs as the program declares them in the dev stack."""
    inputs: dict[str, Any] = {
        "project": PROJECT,
        "region": REGION,
        "image_name": f"{REGION}-docker.pkg.dev/{PROJECT}/switchboard-agents/gateway",
        "content_hash": "6acdb428479e97012f005719be30fe3fc47b259f2ab67c18ec4d0cb2e611c16e",
        "source_bucket": f"{PROJECT}-agent-sources",
        "source_object": "agents/gateway/6acdb428479e97012f00.tar.gz",
        "runtime": "python312",
        "function_target": "handle",
        "base_image": BASE_IMAGE_URI,
        "enable_automatic_updates": True,
        "service_account": (
            f"projects/{PROJECT}/serviceAccounts/sb-builder@{PROJECT}.iam.gserviceaccount.com"
        ),
        "tags": ["switchboard", "service_gateway"],
    }
    return inputs | overrides


def spec(**overrides: Any) -> BuildSpec:
    return BuildSpec.from_inputs(spec_inputs(**overrides))
