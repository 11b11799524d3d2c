"""A render as a graph: resources by id, and what each one waits for (transitively).

The records are :mod:`library.render_format`'s (a node is a rendered resource)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from library.render_format import Invoke, parse
from library.render_format import Resource as Node

__all__ = ["Invoke", "Node", "Render"]


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
        rendered = parse(manifest)
        return cls(
            stack=rendered.stack,
            nodes=rendered.by_id(),
            mode=rendered.mode,
            invokes=rendered.invokes,
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
