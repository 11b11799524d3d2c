"""What a finished (or unfinished) Cloud Build build means for the image it was to push.

Pure: works on the build as a mapping (``Build`` of google.cloud.devtools.cloudbuild_v1
turned into a dict with ``to_dict``), so it is tested without any client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.monitoring.runbooks import deploy_failure_pointer

SUCCESS = "SUCCESS"
RUNNING = frozenset({"STATUS_UNKNOWN", "PENDING", "QUEUED", "WORKING"})
FAILED = frozenset({"FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"})
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_DETAIL = 500


class BuildFailedError(RuntimeError):
    """The build did not produce the image; the message carries the build's log link."""

    def __init__(self, image_uri: str, status: str, detail: str, log_url: str) -> None:
        where = f"logs: {log_url}" if log_url else "no log link was returned"
        reason = f": {detail}" if detail else ""
        super().__init__(
            f"image build for {image_uri} ended {status}{reason}; {where}. "
            + deploy_failure_pointer("a failed build")
        )
        self.image_uri = image_uri
        self.status = status
        self.detail = detail
        self.log_url = log_url


@dataclass(frozen=True)
class BuildRef:
    """Where a submitted build can be read back (from the SubmitBuild operation's metadata)."""

    name: str
    """``projects/<project>/locations/<region>/builds/<id>``"""
    project: str
    id: str
    log_url: str


@dataclass(frozen=True)
class BuiltImage:
    """A pushed image: what the service runs (``image``, pinned by digest)."""

    image_name: str
    digest: str
    build_name: str
    log_url: str
    base_image_uri: str

    @property
    def image(self) -> str:
        return f"{self.image_name}@{self.digest}"


_BUILD_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/[^/]+/builds/(?P<id>[^/]+)$")


def build_ref(build: Mapping[str, Any]) -> BuildRef:
    """The build a SubmitBuild operation started (its metadata's ``build``)."""
    name = str(build.get("name") or "")
    match = _BUILD_NAME.match(name)
    if match is None:
        raise ValueError(f"the build service returned no usable build name ({name!r})")
    return BuildRef(
        name=name,
        project=str(build.get("project_id") or match["project"]),
        id=str(build.get("id") or match["id"]),
        log_url=str(build.get("log_url") or ""),
    )


def status_of(build: Mapping[str, Any]) -> str:
    status = build.get("status", "STATUS_UNKNOWN")
    return status if isinstance(status, str) else getattr(status, "name", str(status))


def is_finished(build: Mapping[str, Any]) -> bool:
    return status_of(build) not in RUNNING


def _detail(build: Mapping[str, Any]) -> str:
    failure = build.get("failure_info") or {}
    parts = [str(failure.get("detail") or ""), str(build.get("status_detail") or "")]
    text = "; ".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


def built_image(
    build: Mapping[str, Any], image_name: str, image_uri: str, base_image_uri: str
) -> BuiltImage:
    """The pushed image of a finished build, or :class:`BuildFailedError` naming its logs."""
    status = status_of(build)
    log_url = str(build.get("log_url") or "")
    if status != SUCCESS:
        detail = _detail(build) or ("status not recognised" if status not in FAILED else "")
        raise BuildFailedError(image_uri, status, detail, log_url)
    images = (build.get("results") or {}).get("images") or []
    digests = [
        str(image.get("digest") or "")
        for image in images
        if str(image.get("name") or "") in (image_uri, image_name)
    ]
    if not digests and len(images) == 1:
        digests = [str(images[0].get("digest") or "")]
    if len(set(digests)) != 1 or not DIGEST.match(digests[0]):
        raise BuildFailedError(
            image_uri,
            status,
            f"the build reported no single sha256 digest for {image_uri} (got {digests or 'none'})",
            log_url,
        )
    return BuiltImage(
        image_name=image_name,
        digest=digests[0],
        build_name=str(build.get("name") or ""),
        log_url=log_url,
        base_image_uri=base_image_uri,
    )
