"""Which objects of the state bucket one stack's identities may touch (IAM conditions)."""

from __future__ import annotations

MAIN_PROJECT = "switchboard"
"""The main program's Pulumi project name (``name:`` in the repository's Pulumi.yaml)."""


def stack_object_prefixes(stack: str, project: str = MAIN_PROJECT) -> tuple[str, ...]:
    """Object-name prefixes a bucket backend (project-scoped layout) keeps for one stack:
    the checkpoint (``<stack>.json``, ``.json.bak``, ...), its history, backups and locks."""
    return (
        f".pulumi/stacks/{project}/{stack}.",
        f".pulumi/history/{project}/{stack}/",
        f".pulumi/backups/{project}/{stack}/",
        f".pulumi/locks/{project}/{stack}/",
    )


BACKEND_METADATA = ".pulumi/meta.yaml"
"""Written once by the first ``pulumi login`` (a person's); every CLI reads it."""


def stack_objects_condition(bucket: str, stacks: tuple[str, ...]) -> str:
    """CEL over ``resource.name`` admitting exactly these stacks' objects."""
    base = f"projects/_/buckets/{bucket}/objects/"
    return " || ".join(
        f"resource.name.startsWith('{base}{prefix}')"
        for stack in stacks
        for prefix in stack_object_prefixes(stack)
    )


def metadata_condition(bucket: str) -> str:
    """CEL admitting only the backend's metadata object."""
    return f"resource.name == 'projects/_/buckets/{bucket}/objects/{BACKEND_METADATA}'"
