"""What a policy sees (a resource, the stack context) and what it says (findings)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PROD_STACKS = ("prod", "production")


@dataclass(frozen=True)
class Resource:
    """One resource as a stack policy sees it: type, logical name, inputs, protect."""

    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    id: str = ""

    @property
    def label(self) -> str:
        return self.id or f"{self.type}::{self.name}"


@dataclass(frozen=True)
class Context:
    """Stack-wide facts: which stack, and which agents the catalogue declares public."""

    stack: str | None = None
    public_services: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_prod(self) -> bool:
        return self.stack is not None and self.stack.lower() in PROD_STACKS


@dataclass(frozen=True)
class Finding:
    """A stack policy's result: a violation, or (``note=True``) an explanation of a skip."""

    message: str
    resource: str | None = None
    note: bool = False


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.policy}] {self.resource}: {self.message}"


def get(props: Mapping[str, Any] | None, path: str, default: Any = None) -> Any:
    """``get(props, "pushConfig.oidcToken.serviceAccountEmail")``; ``default`` if absent."""
    value: Any = props
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def infer_stack(resources: Iterable[Resource]) -> str | None:
    """The stack name from the ``stack`` label every Switchboard resource carries."""
    labels = Counter(
        str(get(r.props, "labels.stack"))
        for r in resources
        if isinstance(get(r.props, "labels.stack"), str)
    )
    return labels.most_common(1)[0][0] if labels else None
