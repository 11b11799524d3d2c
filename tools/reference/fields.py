"""One row per configurable field of a pydantic model, read from the model itself.

:func:`rows` walks a model (nested models, lists and maps of models included) and returns,
for every leaf key, its path, type, default, limits and description. Types and limits come
from the annotations (``Field(ge=..., le=..., pattern=..., max_length=...)``, ``Literal``)
and from the docstrings of the validators the annotations carry; descriptions come from
the field's docstring (``use_attribute_docstrings``). A field without a description is
refused, by name: the reference never has an empty cell.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

REQUIRED = "required"
UNIT = "{unit}"  # filled in by :func:`describe` once the type is known: characters, entries


class UndescribedFieldError(ValueError):
    """Fields with no docstring or description; the message names each one."""


@dataclass(frozen=True)
class Row:
    """One key of the reference."""

    key: str
    type: str
    default: str
    limits: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Leaf:
    """A model read as a single value (its config form is not its fields), e.g. a string
    parsed into a model by a ``BeforeValidator``."""

    type: str


@dataclass(frozen=True)
class Walk:
    """How keys are spelled: ``key`` maps a field name to its config key (the alias, say);
    ``leaves`` maps models that are one value to how that value is written."""

    key: Callable[[str, FieldInfo], str]
    leaves: Mapping[type[BaseModel], Leaf]


def rows(model: type[BaseModel], walk: Walk, prefix: str = "") -> list[Row]:
    """Every leaf key under ``model``; raises :class:`UndescribedFieldError` naming each
    field (``Model.field``) that has no description."""
    missing: list[str] = []
    found = list(_rows(model, walk, prefix, missing))
    if missing:
        raise UndescribedFieldError(
            "fields without a description (add a docstring under the field): " + ", ".join(missing)
        )
    return found


def _rows(model: type[BaseModel], walk: Walk, prefix: str, missing: list[str]) -> Iterator[Row]:
    for name, info in model.model_fields.items():
        key = prefix + walk.key(name, info)
        description = _one_line(info.description or "")
        if not description:
            missing.append(f"{model.__name__}.{name}")
        nested, suffix = _nested_model(info.annotation, walk)
        if nested is not None:
            yield Row(key + suffix, "section", "", (), description)
            yield from _rows(nested, walk, f"{key}{suffix}.", missing)
            continue
        type_text, limits = describe(info.annotation, info.metadata, walk)
        yield Row(key, type_text, _default(info), tuple(limits), description)


def _nested_model(annotation: Any, walk: Walk) -> tuple[type[BaseModel] | None, str]:
    """A model whose fields are keys of their own: directly (``section``), in a list
    (``section[]``) or in a map (``section.<name>``)."""
    annotation = _strip(annotation)
    if _is_model(annotation, walk):
        return annotation, ""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _strip(args[0])
        if _is_model(item, walk):
            return item, "[]"
    if origin is dict:
        value = _strip(args[1])
        if _is_model(value, walk):
            return value, ".<name>"
    if _is_union(annotation):
        present = [_strip(a) for a in args if a is not type(None)]
        if len(present) == 1 and _is_model(present[0], walk):
            return present[0], ""
    return None, ""


def _is_model(annotation: Any, walk: Walk) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation not in walk.leaves
    )


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def describe(annotation: Any, metadata: list[Any], walk: Walk) -> tuple[str, list[str]]:
    """The type as a reader writes it, and the limits the annotation enforces."""
    type_text, limits = _describe(annotation, metadata, walk)
    unit = "characters" if type_text == "string" else "entries"
    return type_text, _ranges([limit.replace(UNIT, unit) for limit in limits])


_RANGES = (
    (r"≥ (\S+)", r"≤ (\S+)", "{} to {}"),
    (r"at least (\d+) (\w+)", r"at most (\d+) (\w+)", "{} to {} {}"),
)


def _ranges(limits: list[str]) -> list[str]:
    """A lower and an upper bound of the same thing as one range: ``1 to 1000``."""
    for low_pattern, high_pattern, joined in _RANGES:
        for prefix in ("", "each: ", "each key: ", "each value: "):
            low = [m for x in limits if (m := re.fullmatch(re.escape(prefix) + low_pattern, x))]
            high = [m for x in limits if (m := re.fullmatch(re.escape(prefix) + high_pattern, x))]
            if len(low) == 1 and len(high) == 1:
                at = limits.index(low[0].string)
                limits = [x for x in limits if x not in (low[0].string, high[0].string)]
                text = joined.format(low[0].group(1), *high[0].groups())
                limits.insert(at, prefix + text)
    return limits


def _describe(annotation: Any, metadata: list[Any], walk: Walk) -> tuple[str, list[str]]:
    limits = [text for item in metadata for text in _limits(item)]
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        type_text, inner_limits = describe(inner, list(extra), walk)
        return type_text, inner_limits + limits
    if _is_union(annotation):
        present = [a for a in get_args(annotation) if a is not type(None)]
        parts = [describe(a, [], walk) for a in present]
        texts = " or ".join(text for text, _ in parts)
        return texts, [limit for _, sub in parts for limit in sub] + limits
    type_text, inner_limits = _describe_unannotated(annotation, walk)
    return type_text, limits + inner_limits


SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _describe_unannotated(annotation: Any, walk: Walk) -> tuple[str, list[str]]:
    """A type with no metadata of its own; its items' limits come back prefixed."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(f"`{json.dumps(a)}`" for a in args), []
    if origin is tuple:
        item_text, item_limits = describe(args[0], [], walk)
        return f"list of {item_text}", [f"each: {x}" for x in item_limits]
    if origin is dict:
        key_text, key_limits = describe(args[0], [], walk)
        value_text, value_limits = describe(args[1], [], walk)
        return (
            f"map of {key_text} to {value_text}",
            [f"each key: {x}" for x in key_limits] + [f"each value: {x}" for x in value_limits],
        )
    if annotation in walk.leaves:
        return walk.leaves[annotation].type, []
    if annotation is Any:
        return "any", []
    if annotation in SCALARS:
        return SCALARS[annotation], []
    raise TypeError(f"no reference text for the type {annotation!r}")


_BOUNDS = (
    (annotated_types.Ge, "ge", "≥ {}"),
    (annotated_types.Gt, "gt", "> {}"),
    (annotated_types.Le, "le", "≤ {}"),
    (annotated_types.Lt, "lt", "< {}"),
    (annotated_types.MinLen, "min_length", "at least {} " + UNIT),
    (annotated_types.MaxLen, "max_length", "at most {} " + UNIT),
)


def _limits(item: Any) -> list[str]:
    """What one piece of annotation metadata enforces, in words."""
    if isinstance(item, FieldInfo):
        return [text for sub in item.metadata for text in _limits(sub)]
    for kind, attribute, text in _BOUNDS:
        if isinstance(item, kind):
            return [text.replace("{}", str(getattr(item, attribute)))]
    pattern = getattr(item, "pattern", None)
    if isinstance(pattern, str):
        return [f"matches `{pattern}`"]
    if isinstance(item, AfterValidator):
        doc = _one_line(item.func.__doc__ or "")
        if not doc:
            raise UndescribedFieldError(
                f"the validator {item.func.__qualname__} has no docstring saying what it allows"
            )
        return [doc]
    if isinstance(item, Strict | BeforeValidator):
        return []  # no limit on the value: strict typing, or input normalised before checks
    raise TypeError(f"no reference text for the annotation {item!r}")


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return REQUIRED
    else:
        value = info.default
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def _one_line(text: str) -> str:
    """A docstring as one table cell: whitespace folded, reST literals as Markdown code."""
    folded = re.sub(r":\w+:`([^`]+)`", r"``\1``", " ".join(text.split()))
    return re.sub(r"``([^`]+)``", r"`\1`", folded)
