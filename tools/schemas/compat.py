"""Which schema changes a producer or consumer still running the old code cannot survive.

Producers and consumers of a type deploy independently (and even one ``pulumi up`` updates
functions in parallel), so a registry change is judged both ways, like the FULL mode of
Confluent's Schema Registry and ``buf breaking``
(https://docs.confluent.io/platform/current/schema-registry/fundamentals/schema-evolution.html,
https://buf.build/docs/breaking/rules). Within one version of a type:

- an added **optional** field is compatible (readers ignore fields they do not know);
- a field removed (or renamed), a type changed, a field made required or no longer
  required, an enum narrowed or widened, a bound tightened or loosened, a pattern changed:
  **breaking** (a reader of one side refuses what the other side sends, or what is in flight).

A breaking change ships as a new version instead: readers learn it first (one deploy),
producers switch to it later (another deploy), and the old version is retired once none
is in flight. Publishing a version the base's readers do not know, or retiring the version
the base still publishes, is breaking too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.schemas.registry import Registry, TypeEntry

UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
MAX_DEPTH = 16


@dataclass(frozen=True)
class Change:
    event_type: str
    version: int | None
    field: str  # dotted path; "" for the type or version itself
    kind: str
    detail: str
    breaking: bool


@dataclass
class Verdict:
    changes: list[Change] = field(default_factory=list)
    deploy_first: list[str] = field(default_factory=list)
    """What to deploy first for each compatible version transition."""

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


@dataclass(frozen=True)
class Parties:
    """Who is affected by a type's change: its consumers and producers (agents)."""

    consumers: Mapping[str, list[str]] = field(default_factory=dict)
    producers: Mapping[str, list[str]] = field(default_factory=dict)

    def describe(self, event_type: str) -> str:
        consumers = ", ".join(self.consumers.get(event_type, [])) or "none known"
        producers = ", ".join(self.producers.get(event_type, [])) or "none known"
        return f"consumers affected: {consumers}; producers: {producers}"


def compare(base: Registry, head: Registry) -> Verdict:
    verdict = Verdict()
    for event_type in sorted(set(base) | set(head)):
        if event_type not in head:
            verdict.changes.append(
                Change(event_type, None, "", "event type removed", "no version is read", True)
            )
        elif event_type in base:
            _compare_type(event_type, base[event_type], head[event_type], verdict)
    return verdict


def _compare_type(event_type: str, base: TypeEntry, head: TypeEntry, verdict: Verdict) -> None:
    add = verdict.changes.append
    for number in sorted(set(base.versions) & set(head.versions)):
        for change in diff_schema(base.schemas[number], head.schemas[number]):
            path, kind, detail, breaking = change
            add(Change(event_type, number, path, kind, detail, breaking))
    for number in sorted(set(base.versions) - set(head.versions)):
        if number == base.publishes:
            add(
                Change(
                    event_type,
                    number,
                    "",
                    "version retired while published",
                    f"producers at the base revision still publish v{number}",
                    True,
                )
            )
        else:
            add(Change(event_type, number, "", "version retired", "no reader accepts it", False))
            verdict.deploy_first.append(
                f"{event_type}: v{number} retired: deploy once no v{number} message can be "
                "in flight (older than the topic's retention and the subscriptions' backlog)"
            )
    added = sorted(set(head.versions) - set(base.versions))
    for number in added:
        add(Change(event_type, number, "", "version added", "readers accept it", False))
    if head.publishes != base.publishes:
        if head.publishes not in base.versions:
            add(
                Change(
                    event_type,
                    head.publishes,
                    "",
                    "published before readers know it",
                    f"producers switch to v{head.publishes}, which consumers at the base "
                    f"revision do not read (they read v{_span(base.versions)})",
                    True,
                )
            )
        else:
            verdict.deploy_first.append(
                f"{event_type}: producers switch v{base.publishes} -> v{head.publishes}; "
                f"every consumer at the base revision already reads v{head.publishes}"
            )
    elif added:
        verdict.deploy_first.append(
            f"{event_type}: deploy this change (consumers learn "
            f"{', '.join(f'v{n}' for n in added)}) before any producer publishes it; "
            "switch producers in a later change"
        )


def _span(versions: tuple[int, ...]) -> str:
    return f"{versions[0]}" if len(versions) == 1 else f"{versions[0]}..v{versions[-1]}"


# -- one schema against another ----------------------------------------------------------


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    """Follow a local ``$ref`` (``#/$defs/Name``) once or more."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < MAX_DEPTH:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def _variants(schema: Any, root: Mapping[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return []
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        return [v for option in options for v in _variants(option, root)]
    return [schema]


def _kind(variant: Mapping[str, Any]) -> str:
    if "const" in variant or "enum" in variant:
        return "enum"
    kind = variant.get("type", "any")
    fmt = variant.get("format")
    return f"{kind}:{fmt}" if fmt else str(kind)


def _values(variant: Mapping[str, Any]) -> set[str]:
    if "const" in variant:
        return {repr(variant["const"])}
    return {repr(v) for v in variant.get("enum", [])}


def diff_schema(
    base: Mapping[str, Any], head: Mapping[str, Any]
) -> Iterator[tuple[str, str, str, bool]]:
    """(field path, kind, detail, breaking) for each difference that matters."""
    yield from _diff_object(base, head, (base, head), "", 0)


Roots = tuple[Any, Any]
"""The base and head documents, where their ``$ref`` s resolve."""


def _diff_object(
    base: Any, head: Any, roots: Roots, prefix: str, depth: int
) -> Iterator[tuple[str, str, str, bool]]:
    base, head = _resolve(base, roots[0]), _resolve(head, roots[1])
    base_props: dict[str, Any] = base.get("properties", {})
    head_props: dict[str, Any] = head.get("properties", {})
    base_required = set(base.get("required", []))
    head_required = set(head.get("required", []))
    new_names = sorted(set(head_props) - set(base_props))
    for name in sorted(set(base_props) - set(head_props)):
        hint = f"; the same version adds {', '.join(new_names)}" if new_names else ""
        yield f"{prefix}{name}", "field removed or renamed", f"gone from the schema{hint}", True
    for name in new_names:
        if name in head_required:
            yield f"{prefix}{name}", "required field added", "producers at base omit it", True
        else:
            yield f"{prefix}{name}", "optional field added", "readers ignore it", False
    for name in sorted(set(base_props) & set(head_props)):
        path = f"{prefix}{name}"
        if name in head_required and name not in base_required:
            yield path, "required field added", "was optional: base producers may omit it", True
        elif name in base_required and name not in head_required:
            yield path, "no longer required", "base consumers require it", True
        yield from _diff_value(base_props[name], head_props[name], roots, path, depth + 1)


def _diff_value(
    base: Any, head: Any, roots: Roots, path: str, depth: int
) -> Iterator[tuple[str, str, str, bool]]:
    if depth > MAX_DEPTH:
        return
    base_variants = {_kind(v): v for v in _variants(base, roots[0])}
    head_variants = {_kind(v): v for v in _variants(head, roots[1])}
    if set(base_variants) != set(head_variants):
        detail = f"{' | '.join(sorted(base_variants))} -> {' | '.join(sorted(head_variants))}"
        yield path, "type changed", detail, True
        return
    for kind, before in base_variants.items():
        after = head_variants[kind]
        if kind == "enum":
            lost, gained = _values(before) - _values(after), _values(after) - _values(before)
            if lost:
                yield path, "enum narrowed", f"no longer allows {', '.join(sorted(lost))}", True
            if gained:
                refused = ", ".join(sorted(gained))
                yield path, "enum widened", f"base consumers refuse {refused}", True
            continue
        yield from _bounds(before, after, path)
        if kind == "object":
            yield from _diff_object(before, after, roots, f"{path}.", depth)
        if kind == "array":
            items = before.get("items", {}), after.get("items", {})
            yield from _diff_value(*items, roots, f"{path}[]", depth + 1)


def _bounds(
    before: Mapping[str, Any], after: Mapping[str, Any], path: str
) -> Iterator[tuple[str, str, str, bool]]:
    for key in (*UPPER_BOUNDS, *LOWER_BOUNDS):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        tighter = _tighter(key in UPPER_BOUNDS, old, new)
        kind = "bound tightened" if tighter else "bound loosened"
        who = "in-flight events and base producers" if tighter else "base consumers"
        yield path, kind, f"{key} {_show(old)} -> {_show(new)}: breaks {who}", True
    if before.get("pattern") != after.get("pattern"):
        detail = f"{before.get('pattern')!r} -> {after.get('pattern')!r}"
        yield path, "pattern changed", detail, True


def _tighter(upper: bool, old: Any, new: Any) -> bool:
    """Whether ``new`` admits fewer values than ``old`` (a bound appearing is tighter)."""
    if old is None or new is None:
        return old is None
    return bool(new < old) if upper else bool(new > old)


def _show(value: Any) -> str:
    return "none" if value is None else str(value)
