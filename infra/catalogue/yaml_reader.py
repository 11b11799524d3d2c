"""Read one catalogue YAML file strictly and within bounds.

A manifest decides what is deployed and who may call it, so its YAML may not be
ambiguous: duplicate keys (which PyYAML silently resolves, last one winning), anchors,
aliases and merge keys (an alias "bomb" of a few hundred bytes expands to gigabytes),
explicit tags, several documents in one file and an empty file are all refused. Scalars
follow YAML 1.2's core schema: only ``true``/``false`` are booleans (``yes``, ``on``
stay strings) and only plain decimal digits are integers (no ``0x``, ``0o``, ``1_000``
or sexagesimal ``1:30``). The file size, nesting depth, node count and integer length
are bounded, so no input makes the loader hang, recurse away or build a huge number.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.catalogue.errors import excerpt

MAX_FILE_BYTES = 64 * 1024
MAX_DEPTH = 12
MAX_NODES = 5_000
MAX_INT_DIGITS = 12

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"^[-+]?[0-9]+\Z")
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlError(ValueError):
    """The file cannot be used; ``where`` is ``line L, column C`` (or empty)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _core_schema_resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """SafeLoader's implicit resolvers with YAML 1.2 core booleans and integers."""
    resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in entries if tag not in (_BOOL_TAG, _INT_TAG)]
        if kept:
            resolvers[first] = kept
    for first in "tTfF":
        resolvers.setdefault(first, []).insert(0, (_BOOL_TAG, _BOOL))
    for first in "-+0123456789":
        resolvers.setdefault(first, []).insert(0, (_INT_TAG, _INT))
    return resolvers


class _StrictLoader(yaml.SafeLoader):
    yaml_implicit_resolvers = _core_schema_resolvers()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise YamlError(_where(event.start_mark), "aliases (*name) are not allowed")
        if getattr(event, "anchor", None):
            raise YamlError(_where(event.start_mark), "anchors (&name) are not allowed")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise YamlError(
                _where(event.start_mark), f"explicit tags are not allowed (got {excerpt(tag)})"
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlError(_where(event.start_mark), f"more than {MAX_NODES} values")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlError(_where(event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                raise YamlError(_where(key_node.start_mark), "merge keys (<<) are not allowed")
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(_where(key_node.start_mark), "keys must be plain scalars")
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                first = seen[key]
                raise YamlError(
                    _where(key_node.start_mark),
                    f"duplicate key {excerpt(key)} (first at line {first.line + 1})",
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node))
        if len(text.lstrip("+-")) > MAX_INT_DIGITS:
            raise YamlError(_where(node.start_mark), f"integer longer than {MAX_INT_DIGITS} digits")
        return int(text, 10)


_StrictLoader.add_constructor(_INT_TAG, _StrictLoader.construct_yaml_int)


def read_yaml(path: Path) -> Any:
    """The one document in ``path``; YamlError (never a traceback) when it is unusable."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlError("", f"file of {size} bytes is over the {MAX_FILE_BYTES}-byte limit")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise YamlError("", "file not found") from None
    except OSError as error:
        raise YamlError("", f"cannot be read: {excerpt(error.strerror or error)}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError("", f"file is over the {MAX_FILE_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlError("", f"is not UTF-8 (byte {error.start})") from None
    return parse_yaml(text)


def parse_yaml(text: str) -> Any:
    """The one document in ``text`` (see the module docstring for what is refused)."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        document = None if node is None else loader.construct_document(node)
        if document is None:
            raise YamlError("", "the file is empty (no YAML document)")
        return document
    except YamlError:
        raise
    except yaml.MarkedYAMLError as error:
        reason = error.problem or error.context or "not valid YAML"
        if "expected a single document" in str(error):
            reason = "more than one YAML document (---); a file holds exactly one"
        raise YamlError(_where(error.problem_mark), f"invalid YAML: {reason}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        raise YamlError("", f"invalid YAML: {excerpt(str(error))}") from None
    finally:
        loader.dispose()
