"""The render format (``switchboard-render/1``, written by ``tools.render``), read once.

``rendered/<stack>.json`` holds the stack as the program registers it: every resource with
its type, name, parent, dependencies, options and normalised inputs, and every data source
the program read. Preflight, the policy command and the diff read it through :func:`parse`
instead of each indexing the JSON; the writer's docstring (``tools/render/manifest.py``)
shows the format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODE_UPDATE = "update"
MODE_PREVIEW = "preview"
"""A preview-mode render: as a first ``pulumi preview`` runs it, every output the cloud
computes is ``[unknown]``."""


@dataclass(frozen=True)
class Resource:
    """One registered resource; ``id`` is the shortened urn ``type::name``. A component
    (``custom`` false) has no inputs; ``parent`` is ``None`` for a top-level resource."""

    id: str
    type: str
    name: str
    custom: bool = True
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def protect(self) -> bool:
        return bool(self.options.get("protect"))


@dataclass(frozen=True)
class Invoke:
    """A data source the program read while it ran (token and normalised arguments)."""

    token: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class RenderedStack:
    """One stack's render; ``stack`` is empty when the document does not say (a hand-made
    or empty side of a diff)."""

    stack: str
    mode: str
    resources: tuple[Resource, ...]
    invokes: tuple[Invoke, ...] = ()

    @property
    def preview(self) -> bool:
        return self.mode == MODE_PREVIEW

    def by_id(self) -> dict[str, Resource]:
        return {r.id: r for r in self.resources}


def parse_resource(document: Mapping[str, Any]) -> Resource:
    return Resource(
        id=str(document.get("id", "")),
        type=str(document["type"]),
        name=str(document["name"]),
        custom=bool(document.get("custom", True)),
        parent=document.get("parent"),
        dependencies=tuple(document.get("dependencies") or ()),
        options=document.get("options") or {},
        inputs=document.get("inputs") or {},
    )


def parse(document: Mapping[str, Any]) -> RenderedStack:
    """A render document (``json.loads`` of ``rendered/<stack>.json``) as typed records."""
    return RenderedStack(
        stack=str(document.get("stack") or ""),
        mode=str(document.get("mode") or MODE_UPDATE),
        resources=tuple(parse_resource(r) for r in document.get("resources") or ()),
        invokes=tuple(
            Invoke(token=str(i["token"]), args=i.get("args") or {})
            for i in document.get("invokes") or ()
        ),
    )


def load(path: Path) -> RenderedStack:
    return parse(json.loads(path.read_text(encoding="utf-8")))
