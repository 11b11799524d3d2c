"""What each committed stack sets: the effective settings of every ``Pulumi.<stack>.yaml``
(through :func:`infra.settings.parse_settings`, defaults included), flattened to config keys
(``switchboard:firestore.backups.dailyRetentionDays``), for the README's per-stack table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from infra.offline.harness import REPO_ROOT, stack_config
from infra.settings import GCP_KEYS, NAMESPACE, SecretSource, StackSettings, parse_settings
from tools.reference.fields import Leaf, Walk

SETTINGS_WALK = Walk(
    key=lambda name, info: info.alias or name,
    leaves={SecretSource: Leaf("`config` or `external:<N>`")},
)
NOT_CONFIG_KEYS = ("stack", "secretsFromConfig")
"""StackSettings fields the program fills in; no key of a stack file sets them directly."""
ENVIRONMENTS: tuple[str, ...] = get_args(StackSettings.model_fields["environment"].annotation)


@dataclass(frozen=True)
class StackValues:
    """Per stack (in environment order: dev, staging, prod), each config key's effective
    value; ``explicit`` holds the keys some stack file writes out."""

    stacks: tuple[str, ...]
    values: Mapping[str, Mapping[str, str]]
    explicit: frozenset[str]

    def row(self, key: str) -> list[str]:
        return [self.values[stack].get(key, "unset") for stack in self.stacks]

    def differing(self) -> list[str]:
        """Keys whose value is not the same in every stack, in the models' order."""
        return [key for key in self._keys() if len(set(self.row(key))) > 1]

    def alike(self) -> list[str]:
        """Keys the stack files write out, with the same value in every stack."""
        return [
            key for key in self._keys() if key in self.explicit and len(set(self.row(key))) == 1
        ]

    def _keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for stack in self.stacks:
            seen.update(dict.fromkeys(self.values[stack]))
        return list(seen)


def stack_values(root: Path = REPO_ROOT) -> StackValues:
    """The settings every ``Pulumi.<stack>.yaml`` under ``root`` gives, flattened."""
    configs = {
        path.name.removeprefix("Pulumi.").removesuffix(".yaml"): stack_config(
            path.name.removeprefix("Pulumi.").removesuffix(".yaml"), root
        )
        for path in root.glob("Pulumi.*.yaml")
    }
    settings = {stack: parse_settings(stack, config) for stack, config in configs.items()}
    order = sorted(settings, key=lambda s: (ENVIRONMENTS.index(settings[s].environment), s))
    values = {
        stack: {
            config_key(key): text
            for key, text in _flatten(settings[stack], "").items()
            if key.split(".")[0] not in NOT_CONFIG_KEYS
        }
        for stack in order
    }
    explicit = frozenset(key for config in configs.values() for key in _flatten(config, ""))
    return StackValues(tuple(order), values, explicit)


def config_key(path: str) -> str:
    """``instances.maxCap`` -> ``switchboard:instances.maxCap``; ``project`` -> ``gcp:project``."""
    return GCP_KEYS.get(path, f"{NAMESPACE}:{path}")


def _flatten(value: Any, prefix: str) -> dict[str, str]:
    """Leaf key -> value text; models and mappings are walked, anything else is a leaf."""
    found: dict[str, str] = {}
    if isinstance(value, BaseModel) and type(value) not in SETTINGS_WALK.leaves:
        for name, info in type(value).model_fields.items():
            key = SETTINGS_WALK.key(name, info)
            found.update(_flatten(getattr(value, name), f"{prefix}{key}."))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found.update(_flatten(item, f"{prefix}{key}."))
    else:
        found[prefix.removesuffix(".")] = _text(value)
    return found


def _text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    return str(value)
