"""What one image build is, as plain data: the resource's inputs, checked, and the request
Cloud Run's ``Builds.SubmitBuild`` receives for it (what ``gcloud run deploy --source
--function`` sends).

Pure: no Pulumi, no Google clients. The dynamic provider and the component both use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TAG_LENGTH = 20
"""The image tag is the archive's content hash, shortened like its object name."""

IMAGE_INPUTS: tuple[str, ...] = (
    "project",
    "region",
    "image_name",
    "content_hash",
    "source_bucket",
    "source_object",
    "runtime",
    "function_target",
    "base_image",
    "enable_automatic_updates",
)
"""Inputs that shape the image: a change to any of them is a new build (a replacement).
The build's service account and tags do not change what is built: a change there is
recorded without building again."""

OTHER_INPUTS: tuple[str, ...] = ("service_account", "tags")
INPUTS: tuple[str, ...] = IMAGE_INPUTS + OTHER_INPUTS

_HASH = re.compile(r"^[0-9a-f]{40,64}$")
_IMAGE_NAME = re.compile(
    r"^(?P<region>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])"
    r"/[a-z0-9][a-z0-9-_.]{0,62}/[a-z0-9][a-z0-9-_./]{0,127}$"
)
_SERVICE_ACCOUNT = re.compile(
    r"^projects/[^/\s]{1,100}/serviceAccounts/[^/\s@]{1,100}@[^/\s]{1,200}$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_RUNTIME = re.compile(r"^[a-z]+[0-9]{1,4}$")
MAX_TAGS = 16
MAX_TEXT = 1024


class BuildSpecError(ValueError):
    """An input of an image build is missing or malformed (names the input)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"image build input {field!r}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class BuildSpec:
    """One buildpacks build of an agent's archive into the stack's image repository."""

    project: str
    region: str
    image_name: str
    """The repository path without tag or digest: ``<region>-docker.pkg.dev/<p>/<repo>/<agent>``."""
    content_hash: str
    source_bucket: str
    source_object: str
    runtime: str
    function_target: str
    base_image: str
    enable_automatic_updates: bool
    service_account: str
    """The build's identity: ``projects/<project>/serviceAccounts/<email>``."""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        errors = input_errors(self.inputs())
        if errors:
            raise errors[0]

    @property
    def tag(self) -> str:
        return self.content_hash[:TAG_LENGTH]

    @property
    def image_uri(self) -> str:
        """Where the build pushes: the repository path tagged with the content hash."""
        return f"{self.image_name}:{self.tag}"

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def source_location(self) -> str:
        return f"gs://{self.source_bucket}/{self.source_object}"

    def inputs(self) -> dict[str, Any]:
        """The resource's inputs (plain values, stable key order)."""
        return {
            "project": self.project,
            "region": self.region,
            "image_name": self.image_name,
            "content_hash": self.content_hash,
            "source_bucket": self.source_bucket,
            "source_object": self.source_object,
            "runtime": self.runtime,
            "function_target": self.function_target,
            "base_image": self.base_image,
            "enable_automatic_updates": self.enable_automatic_updates,
            "service_account": self.service_account,
            "tags": list(self.tags),
        }

    @classmethod
    def from_inputs(cls, props: Mapping[str, Any]) -> BuildSpec:
        """Rebuild a spec from the resource's inputs (or stored outputs, a superset)."""
        errors = input_errors(props)
        if errors:
            raise errors[0]
        texts = {
            name: props[name] for name in INPUTS if name not in ("tags", "enable_automatic_updates")
        }
        return cls(
            **texts,
            enable_automatic_updates=props["enable_automatic_updates"],
            tags=tuple(props["tags"]),
        )

    def submit_request(self) -> dict[str, Any]:
        """``SubmitBuildRequest`` as a mapping (field names of google.cloud.run_v2)."""
        return {
            "parent": self.parent,
            "storage_source": {"bucket": self.source_bucket, "object_": self.source_object},
            "image_uri": self.image_uri,
            "buildpack_build": {
                "runtime": self.runtime,
                "function_target": self.function_target,
                "base_image": self.base_image,
                "enable_automatic_updates": self.enable_automatic_updates,
            },
            "service_account": self.service_account,
            "tags": list(self.tags),
        }


def image_name_for(region: str, project: str, repository: str, agent: str) -> str:
    """An agent's image in the stack's repository, without tag or digest."""
    return f"{region}-docker.pkg.dev/{project}/{repository}/{agent}"


def check_plain_inputs(
    *,
    project: str,
    region: str,
    image_name: str,
    content_hash: str,
    runtime: str,
    function_target: str,
    base_image: str,
) -> None:
    """The inputs known when the program runs (the rest are outputs of other resources)."""
    plain = {
        "project": project,
        "region": region,
        "image_name": image_name,
        "content_hash": content_hash,
        "runtime": runtime,
        "function_target": function_target,
        "base_image": base_image,
    }
    errors = input_errors(plain, unknown=frozenset(INPUTS) - set(plain))
    if errors:
        raise errors[0]


def input_errors(
    props: Mapping[str, Any], unknown: frozenset[str] | set[str] = frozenset()
) -> list[BuildSpecError]:
    """Every problem with a build's inputs, in input order, one per input at most.

    An input named in ``unknown`` is not known yet (a preview: it is another resource's
    output, which the engine sends as unknown) and is not checked; nor is a check that
    relates it to another input. Everything known is checked, so a preview still names a
    malformed input."""
    errors: list[BuildSpecError] = []
    for name in INPUTS:
        if name in unknown:
            continue
        value = props.get(name)
        if value is None:
            errors.append(BuildSpecError(name, "missing"))
            continue
        try:
            _CHECKS[name](value)
        except BuildSpecError as error:
            errors.append(error)
    known = {n for n in ("image_name", "region", "project") if n not in unknown}
    if known == {"image_name", "region", "project"} and not any(e.field in known for e in errors):
        match = _IMAGE_NAME.match(props["image_name"])
        if match is not None and (match["region"], match["project"]) != (
            props["region"],
            props["project"],
        ):
            errors.append(
                BuildSpecError(
                    "image_name",
                    f"{props['image_name']!r} is not in {props['region']}/{props['project']}",
                )
            )
    return errors


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise BuildSpecError(name, f"must be a string, not {type(value).__name__}")
    return _text(name, value)


def _matching(name: str, pattern: re.Pattern[str], reason: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not pattern.match(_string(name, value)):
            raise BuildSpecError(name, reason.format(value=value))

    return check


def _plain_text(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        _string(name, value)

    return check


def _check_automatic(value: Any) -> None:
    if not isinstance(value, bool):
        raise BuildSpecError("enable_automatic_updates", "must be true or false")


def _check_tags(value: Any) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise BuildSpecError("tags", "must be a list of strings")
    if len(value) > MAX_TAGS or not all(_TAG.match(t) for t in value):
        raise BuildSpecError("tags", f"at most {MAX_TAGS} tags, each matching {_TAG.pattern}")


_CHECKS: dict[str, Callable[[Any], None]] = {
    "project": _plain_text("project"),
    "region": _plain_text("region"),
    "image_name": _matching(
        "image_name",
        _IMAGE_NAME,
        "{value!r} is not <region>-docker.pkg.dev/<project>/<repository>/<name>"
        " (no tag, no digest)",
    ),
    "content_hash": _matching("content_hash", _HASH, "must be a lowercase hex sha (40-64 digits)"),
    "source_bucket": _plain_text("source_bucket"),
    "source_object": _plain_text("source_object"),
    "runtime": _matching("runtime", _RUNTIME, "{value!r} is not a runtime id (like python312)"),
    "function_target": _matching(
        "function_target", _IDENTIFIER, "{value!r} is not a Python function name"
    ),
    "base_image": _plain_text("base_image"),
    "enable_automatic_updates": _check_automatic,
    "service_account": _matching(
        "service_account", _SERVICE_ACCOUNT, "must be projects/<project>/serviceAccounts/<email>"
    ),
    "tags": _check_tags,
}


def _text(field: str, value: str) -> str:
    if not value or not value.strip():
        raise BuildSpecError(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise BuildSpecError(field, f"longer than {MAX_TEXT} characters")
    return value


def rebuild_needed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The image-shaping inputs that differ between the stored state and the new inputs."""
    return [name for name in IMAGE_INPUTS if olds.get(name) != news.get(name)]


def changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Every input that differs (image-shaping or not)."""
    return [name for name in INPUTS if _comparable(olds.get(name)) != _comparable(news.get(name))]


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
