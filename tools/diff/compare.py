"""Compare two manifests: added, removed and changed resources, property by property.

Both sides are read with :mod:`library.render_format`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from library.render_format import Resource, parse
from tools.diff.hazards import REMOVAL_ADVICE, STATEFUL_ADVICE, forces_replacement

Kind = Literal["added", "removed", "changed", "replaced"]
MISSING = object()


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    replaces: bool = False


@dataclass(frozen=True)
class Change:
    id: str
    type: str
    name: str
    kind: Kind
    properties: tuple[PropertyChange, ...] = ()
    delete_before_replace: bool = False

    @property
    def warning(self) -> str | None:
        """What to do first, when this change replaces or removes a stateful resource."""
        advice = STATEFUL_ADVICE.get(self.type)
        if advice is None:
            return None
        if self.kind == "replaced":
            fields = ", ".join(p.path for p in self.properties if p.replaces)
            order = " (deleted BEFORE its replacement exists)" if self.delete_before_replace else ""
            return f"{self.id} is REPLACED{order} because {fields} changed: {advice}"
        if self.kind == "removed":
            return f"{self.id} is REMOVED: {REMOVAL_ADVICE}"
        return None


@dataclass(frozen=True)
class Diff:
    base_label: str
    head_label: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def of_kind(self, *kinds: Kind) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]

    @property
    def warnings(self) -> list[str]:
        return [w for w in (c.warning for c in self.changes) if w]

    @property
    def empty(self) -> bool:
        return not self.changes


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``; empty containers stay as leaves."""
    if isinstance(value, dict) and value and "$asset" not in value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _resource_view(resource: Resource) -> dict[str, Any]:
    """What is compared: inputs, options, parent and dependencies."""
    return {
        "inputs": resource.inputs,
        "options": resource.options,
        "parent": resource.parent,
        "dependencies": list(resource.dependencies),
    }


def _property_changes(
    before: Resource, after: Resource, replacements: bool
) -> list[PropertyChange]:
    old, new = flatten(_resource_view(before)), flatten(_resource_view(after))
    replace_on = list(after.options.get("replaceOnChanges", []))
    changes = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, MISSING), new.get(path, MISSING)
        if a == b:
            continue
        replaces = (
            replacements
            and path.startswith("inputs.")
            and forces_replacement(after.type, path.removeprefix("inputs."), replace_on)
        )
        changes.append(
            PropertyChange(
                path.removeprefix("inputs."),
                None if a is MISSING else a,
                None if b is MISSING else b,
                replaces,
            )
        )
    return changes


def compare(
    base: dict[str, Any],
    head: dict[str, Any],
    base_label: str = "base",
    head_label: str = "head",
    *,
    replacements: bool = True,
) -> Diff:
    """Everything that differs between two manifests, in resource-id order.

    ``replacements=False`` when the sides are two different stacks (not a deployment):
    changes are listed but none is classified as a replacement."""
    old, new = parse(base).by_id(), parse(head).by_id()
    changes: list[Change] = []
    for rid in sorted(set(old) | set(new)):
        if rid not in old:
            r = new[rid]
            changes.append(Change(rid, r.type, r.name, "added"))
        elif rid not in new:
            r = old[rid]
            changes.append(Change(rid, r.type, r.name, "removed"))
        else:
            props = _property_changes(old[rid], new[rid], replacements)
            if not props:
                continue
            r = new[rid]
            kind: Kind = "replaced" if any(p.replaces for p in props) else "changed"
            dbr = bool(r.options.get("deleteBeforeReplace"))
            changes.append(Change(rid, r.type, r.name, kind, tuple(props), dbr))
    return Diff(base_label, head_label, tuple(changes))
