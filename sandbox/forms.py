"""Decode the bracketed form encoding Stripe's SDK sends (``a[b][0][c]=v``) into JSON."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def parse_form(body: bytes) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        parts = [a or b for a, b in _KEY.findall(key)]
        if parts:
            _assign(result, parts, value)
    return _listify(result)


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    target[parts[-1]] = value


def _listify(node: Any) -> Any:
    """Dicts whose keys are 0..n-1 become lists."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        keys = sorted(converted, key=int)
        if [int(k) for k in keys] == list(range(len(keys))):
            return [converted[k] for k in keys]
    return converted
