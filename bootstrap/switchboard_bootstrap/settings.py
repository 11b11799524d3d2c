"""Typed, validated bootstrap settings read from ``bootstrap/Pulumi.<stack>.yaml``.

A wrong or missing value fails before any resource is declared, naming the config key
(``switchboard-bootstrap:githubRepository: required but not set``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

NAMESPACE = "switchboard-bootstrap"
PROJECT_KEY = "gcp:project"
PROJECT_ID_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
# GitHub: owner 1-39 alphanumerics or dashes; repository 1-100 of [A-Za-z0-9._-].
REPOSITORY_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"
ENVIRONMENT_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
BRANCH_PATTERN = r"^[A-Za-z0-9._/-]{1,200}$"
STACK_PATTERN = r"^[a-z][a-z0-9-]{0,19}$"
# Workload Identity pool / provider ids: 4-32 lowercase letters, digits, dashes.
WIF_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$"
KMS_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,40}$"  # a key name also gets "-<stack>" (63 max)
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$"
MAX_STACKS = 10

ProjectId = Annotated[str, Field(pattern=PROJECT_ID_PATTERN)]


def _not_reserved(value: str) -> str:
    if value.startswith("gcp-"):
        raise ValueError(f"{value!r}: the gcp- prefix is reserved by Google")
    return value


WifId = Annotated[str, Field(pattern=WIF_ID_PATTERN), AfterValidator(_not_reserved)]


class BootstrapError(ValueError):
    """Bootstrap configuration is missing or invalid; the message names every bad key."""


class _Config(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class StackTarget(_Config):
    """One stack of the main program (``switchboard-bootstrap:stacks.<stack>``)."""

    project: ProjectId
    """The GCP project the stack deploys into (its ``gcp:project``)."""
    environment: Annotated[str, Field(pattern=ENVIRONMENT_PATTERN)]
    """The GitHub environment whose jobs deploy it (deploy.yml's ``environment:``)."""


class StateSettings(_Config):
    """The Pulumi state bucket (``switchboard-bootstrap:state``)."""

    bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)] | None = None
    """Default ``<ops project>-pulumi-state``."""
    location: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{2,30}$")] = "EU"
    noncurrent_versions: Annotated[int, Field(ge=1, le=1000)] = 50
    """Older versions of each state file kept (every update writes a new one)."""
    noncurrent_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """An older version is deleted this many days after it stopped being current."""
    soft_delete_days: Annotated[int, Field(ge=7, le=90)] = 7
    """Deleted objects stay restorable this long (Cloud Storage allows 7 to 90 days)."""


class KeySettings(_Config):
    """The KMS key that wraps each stack's data key (``switchboard-bootstrap:kms``)."""

    location: Annotated[str, Field(pattern=r"^[a-z0-9-]{2,30}$")] = "global"
    key_ring: Annotated[str, Field(pattern=KMS_NAME_PATTERN)] = "switchboard-pulumi"
    key: Annotated[str, Field(pattern=KMS_NAME_PATTERN)] = "stack-secrets"
    rotation_days: Annotated[int, Field(ge=1, le=365)] = 90
    """A new primary key version this often; old versions still decrypt."""


class BootstrapSettings(_Config):
    """Everything the bootstrap configures. Field docs say what each key does."""

    ops_project: ProjectId
    """``gcp:project``: the ops project that holds state, key, identity pool, previewer."""
    github_repository: Annotated[str, Field(pattern=REPOSITORY_PATTERN)]
    """``OWNER/REPO``: the only repository whose workflows may exchange tokens."""
    github_repository_id: Annotated[str, Field(pattern=r"^[0-9]{1,20}$")] | None = None
    """The repository's numeric id (``gh api repos/OWNER/REPO --jq .id``): pins the
    repository itself, so a deleted-and-recreated repository of the same name cannot."""
    deploy_branch: Annotated[str, Field(pattern=BRANCH_PATTERN)] = "main"
    """Deploy tokens are accepted only from jobs running on this branch."""
    pool_id: WifId = "github"
    provider_id: WifId = "github"
    previewer: bool = True
    """Create the read-only service account pull-request previews run as."""
    state: StateSettings = StateSettings()
    kms: KeySettings = KeySettings()
    stacks: Annotated[
        dict[Annotated[str, Field(pattern=STACK_PATTERN)], StackTarget],
        Field(min_length=1, max_length=MAX_STACKS),
    ]
    """``<stack>: {project, environment}`` for each stack of the main program."""

    @model_validator(mode="after")
    def _projects_apart(self) -> BootstrapSettings:
        seen: dict[str, str] = {}
        for stack, target in self.stacks.items():
            if target.project == self.ops_project:
                raise ValueError(
                    f"stacks.{stack}.project: must not be the ops project ({self.ops_project}): "
                    "a deployer administers its project's IAM, and must not reach state or keys"
                )
            if target.project in seen:
                raise ValueError(
                    f"stacks.{stack}.project: {target.project} is already stack "
                    f"{seen[target.project]}'s project (one project per stack)"
                )
            seen[target.project] = stack
        environments = [t.environment for t in self.stacks.values()]
        if len(set(environments)) != len(environments):
            raise ValueError("stacks: two stacks name the same GitHub environment")
        return self

    @property
    def state_bucket(self) -> str:
        return self.state.bucket or f"{self.ops_project}-pulumi-state"


def parse_settings(stack: str, values: Mapping[str, Any]) -> BootstrapSettings:
    """Build settings from flat Pulumi config (``{"gcp:project": ..., "<ns>:x": ...}``);
    structured values may arrive as JSON strings (as the engine passes them)."""
    data: dict[str, Any] = {}
    if PROJECT_KEY in values:
        data["opsProject"] = values[PROJECT_KEY]
    for key, raw in values.items():
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            data[name] = _decode(raw)
    try:
        return BootstrapSettings.model_validate(data)
    except ValidationError as error:
        problems = [_problem(detail) for detail in error.errors()]
    raise BootstrapError(
        f"invalid configuration for bootstrap stack {stack!r} "
        f"(bootstrap/Pulumi.{stack}.yaml):\n" + "\n".join(problems)
    )


def _decode(raw: Any) -> Any:
    if isinstance(raw, str) and raw[:1] in "{[":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    if isinstance(raw, str) and raw in ("true", "false"):
        return raw == "true"
    return raw


def _problem(detail: Any) -> str:
    """One line per problem, starting with the config key."""
    message = str(detail["msg"]).removeprefix("Value error, ")
    if not detail["loc"]:  # a rule across keys: the message starts with its key
        return f"  - {NAMESPACE}:{message}"
    return f"  - {_key_for(detail['loc'])}: {_explain(detail, message)}"


def _key_for(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts[0] == "opsProject":
        return PROJECT_KEY
    return f"{NAMESPACE}:" + ".".join(parts)


def _explain(detail: Any, message: str) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required but not set (pulumi config set ...)"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling against switchboard_bootstrap/settings.py)"
    return f"{message} (got {detail.get('input')!r})"
