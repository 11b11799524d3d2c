"""A render as a graph: resources by id, and what each one waits for (transitively)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: tuple[str, ...]
    inputs: Mapping[str, Any]


@dataclass(frozen=True)
class Invoke:
    """A data source the program read while it ran (token and normalised arguments)."""

    token: str
    args: Mapping[str, Any]


@dataclass
class Render:
    """One stack's render; ``waits_for(id)`` is everything created before ``id``.
    ``mode``: ``update`` or ``preview`` (computed outputs ``[unknown]``)."""

    stack: str
    nodes: dict[str, Node]
    mode: str = "update"
    invokes: tuple[Invoke, ...] = ()
    _closure: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> Render:
        nodes = {
            r["id"]: Node(
                id=r["id"],
                type=r["type"],
                name=r["name"],
                custom=bool(r.get("custom")),
                parent=r.get("parent"),
                dependencies=tuple(r.get("dependencies") or ()),
                inputs=r.get("inputs") or {},
            )
            for r in manifest["resources"]
        }
        invokes = tuple(
            Invoke(token=str(i["token"]), args=i.get("args") or {})
            for i in manifest.get("invokes") or ()
        )
        return cls(
            stack=str(manifest["stack"]),
            nodes=nodes,
            mode=str(manifest.get("mode") or "update"),
            invokes=invokes,
        )

    def of_type(self, token: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.type == token)

    def waits_for(self, node_id: str) -> frozenset[str]:
        """Every resource ``node_id`` depends on, directly or through others.

        A dependency on a component stands for every resource under it (Pulumi waits for
        a component's children when something depends on the component).
        """
        if node_id in self._closure:
            return self._closure[node_id]
        seen: set[str] = set()
        pending = list(self.nodes[node_id].dependencies)
        while pending:
            current = pending.pop()
            if current in seen or current not in self.nodes:
                continue
            seen.add(current)
            pending.extend(self.nodes[current].dependencies)
            if not self.nodes[current].custom:
                pending.extend(self.children[current])
        self._closure[node_id] = frozenset(seen)
        return self._closure[node_id]

    @cached_property
    def children(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for node in self.nodes.values():
            if node.parent in found:
                found[node.parent].append(node.id)
        return found
