"""Generated manifests for the fuzzed-catalogue test: the real ones, mutated.

Each input is one agent's ``agent.yaml`` text: a real manifest with its values, types,
keys or YAML structure mutated by a seeded ``random.Random``, or one of the hostile
inputs of issue 11 (alias bomb, deep nesting, huge integers, duplicate keys, redirecting
env, lax values).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

HOSTILE_VALUES: tuple[Any, ...] = (
    True,
    False,
    None,
    "yes",
    "10",
    10.0,
    -1,
    0,
    1,
    7,
    100,
    1001,
    10**30,
    "",
    " ",
    "x" * 5000,
    [],
    {},
    ["x"],
    {"a": 1},
    "0128Mi",
    "128Mi",
    "1Gi",
    "64Gi",
    "1e0",
    "0.5",
    "8",
    "99 99 99 99 99",
    "*/0 * * * *",
    "*/5 * * * *",
    'attributes.type = ""',
    'attributes.type = "booking.requested"',
    "NOT (",
    "../../etc/passwd",
    "a/b",
    "\x00",
    "é" * 10,
    "bookings",
    "payments",
    "stripe-api-key",
    "public",
    "run",
    "function",
    "Etc/UTC",
    "Mars/Olympus",
)
HOSTILE_ENV = (
    "PYTHONPATH",
    "LD_PRELOAD",
    "SANDBOX_STRIPE_API_BASE",
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "STRIPE_KEY",
    "TWILIO_REGION",
    "HTTPS_PROXY",
    "K_SERVICE",
    "PORT",
    "lower_case",
    "BOOKING_CURRENCY",
    "CALENDAR_ID",
    "A" * 200,
)
HOSTILE_TEXTS: tuple[str, ...] = (
    "",
    "# nothing\n",
    "---\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ),
    "description: " + "[" * 3000 + "]" * 3000 + "\n",
    "description: x\nplatform: function\nmax_instances: " + "9" * 5001 + "\n",
    "ingress: internal\ningress: public\n",
    "platform: function\n---\nplatform: run\n",
    "- a\n- b\n",
    "just a string\n",
    "42\n",
    "description: !!python/object/apply:os.system [id]\n",
    "<<: {platform: run}\n",
    "description: x\n\tplatform: run\n",
    "description: \udcff\udcfe\n",  # not UTF-8 (written with surrogateescape)
    "description: '" + "x" * 70_000 + "'\n",
)


@dataclass(frozen=True)
class Input:
    agent: str
    kind: str
    text: str


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


def _set_value(rng: random.Random, document: dict[str, Any]) -> str:
    path = rng.choice([p for p in _paths(document) if p])
    _parent(document, path)[path[-1]] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return f"value at {'.'.join(map(str, path))}"


def _nudge(rng: random.Random, document: dict[str, Any]) -> str:
    """A plausible change (another valid-looking value of the same type)."""
    path = rng.choice([p for p in _paths(document) if p])
    parent = _parent(document, path)
    value = parent[path[-1]]
    if isinstance(value, bool):
        parent[path[-1]] = not value
    elif isinstance(value, int):
        parent[path[-1]] = rng.choice([1, 5, 10, 30, 60, 120, 300, 600])
    elif isinstance(value, str):
        parent[path[-1]] = rng.choice([value, value.upper(), value + " ", value[:-1] or value])
    return f"nudge at {'.'.join(map(str, path))}"


def _change_type(rng: random.Random, document: dict[str, Any]) -> str:
    path = rng.choice([p for p in _paths(document) if p])
    parent = _parent(document, path)
    value = parent[path[-1]]
    parent[path[-1]] = rng.choice([[value], {"value": value}, str(value), None])
    return f"type at {'.'.join(map(str, path))}"


def _change_keys(rng: random.Random, document: dict[str, Any]) -> str:
    mappings = [p for p in _paths(document) if isinstance(_get(document, p), dict)]
    path = rng.choice(mappings)
    mapping = _get(document, path)
    action = rng.choice(["delete", "rename", "add", "env"])
    if action == "delete" and mapping:
        mapping.pop(rng.choice(list(mapping)))
    elif action == "rename" and mapping:
        key = rng.choice(list(mapping))
        mapping[f"{key}x"] = mapping.pop(key)
    elif action == "env":
        document.setdefault("env", {})
        if isinstance(document["env"], dict):
            document["env"][rng.choice(HOSTILE_ENV)] = rng.choice(
                ["http://evil.example", "gbp", "x", "sk_live_abc", "/tmp/x.so", "1"]
            )
    else:
        key = rng.choice(["roles", "iam", "ingress", "firestore", "Name", 1])
        mapping[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return f"{action} key under {'.'.join(map(str, path)) or '(top)'}"


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for part in path:
        node = node[part]
    return node


def _mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    index = rng.randrange(len(lines))
    action = rng.choice(
        ["duplicate", "delete", "indent", "truncate", "colon", "anchor", "document", "junk"]
    )
    if action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "delete":
        del lines[index]
    elif action == "indent":
        lines[index] = "  " + lines[index]
    elif action == "truncate":
        return text[: rng.randrange(len(text))]
    elif action == "colon":
        lines[index] = lines[index].replace(":", " ", 1)
    elif action == "anchor":
        lines[index] = lines[index].replace(": ", ": &x ", 1) + "extra: *x\n"
    elif action == "document":
        lines.append("---\n" + "".join(lines[:3]))
    else:
        lines.insert(index, rng.choice(["{", "]", "? ", "- - -", "\t", "'", "%YAML 1.1\n", "!!"]))
    return "".join(lines)


STRUCTURED: tuple[Callable[[random.Random, dict[str, Any]], str], ...] = (
    _nudge,
    _nudge,
    _set_value,
    _set_value,
    _change_type,
    _change_keys,
)


def generate(rng: random.Random, manifests: dict[str, str], count: int) -> Iterator[Input]:
    """``count`` mutated manifests, then every hostile text once per agent kind."""
    agents = sorted(manifests)
    for _ in range(count):
        agent = rng.choice(agents)
        text = manifests[agent]
        if rng.random() < 0.3:
            yield Input(agent, "yaml structure", _mutate_text(rng, text))
            continue
        document = yaml.safe_load(text)
        kinds = [rng.choice(STRUCTURED)(rng, document) for _ in range(rng.choice([1, 1, 2, 3]))]
        yield Input(agent, "; ".join(kinds), yaml.safe_dump(document, sort_keys=False))
    for index, text in enumerate(HOSTILE_TEXTS):
        yield Input(agents[index % len(agents)], f"hostile text {index}", text)
