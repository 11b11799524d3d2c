"""What a policy sees (a resource, the stack context) and what it says (findings)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROD_STACKS = ("prod", "production")
UNKNOWN = "[unknown]"
"""How a preview-mode render records a value the cloud has not computed yet (the same
marker as ``tools.render.normalise.UNKNOWN``; a test keeps the two equal)."""


class UnknownValueError(Exception):
    """A policy read a value that is unknown during a preview. CrossGuard's Python SDK
    raises the same from its props proxy and reports the policy as "can't run during
    preview", advisory, never a violation (pulumi-policy
    ``sdk/python/lib/pulumi_policy/policy.py``, ``Analyze``/``AnalyzeStack``); the policy
    then runs at ``pulumi up``, where the value is known."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path or 'value'} is unknown during preview")
        self.path = path


def unknown_checking(value: Any, path: str = "") -> Any:
    """``value`` with every read of an :data:`UNKNOWN` raising :class:`UnknownValueError`
    (a preview-mode render's props, as CrossGuard hands them to a policy)."""
    if isinstance(value, str) and value == UNKNOWN:
        raise UnknownValueError(path)
    if isinstance(value, Mapping):
        return _UnknownCheckingMapping(value, path)
    if isinstance(value, list):
        return _UnknownCheckingList(value, path)
    return value


class _UnknownCheckingMapping(Mapping[str, Any]):
    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self._data, self._path = data, path

    def __getitem__(self, key: str) -> Any:
        return unknown_checking(self._data[key], f"{self._path}.{key}".lstrip("."))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _UnknownCheckingList(Sequence[Any]):
    def __init__(self, data: list[Any], path: str) -> None:
        self._data, self._path = data, path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._data)))]
        return unknown_checking(self._data[index], f"{self._path}[{index}]")

    def __len__(self) -> int:
        return len(self._data)


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
