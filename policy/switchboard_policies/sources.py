"""Inputs for the pure policies outside CrossGuard: the catalogue and rendered manifests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .model import Context, Resource, infer_stack, unknown_checking

PREVIEW_MODE = "preview"


def public_agents(functions_root: Path) -> frozenset[str]:
    """Agents whose ``agent.yaml`` declares ``ingress: public`` with a non-empty
    ``public_reason`` (folder name = agent)."""
    public = set()
    for manifest in sorted(functions_root.glob("*/agent.yaml")):
        document = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
        if not isinstance(document, Mapping) or document.get("ingress") != "public":
            continue
        reason = document.get("public_reason")
        if isinstance(reason, str) and reason.strip():
            public.add(manifest.parent.name)
    return frozenset(public)


def resources_from_manifest(manifest: Mapping[str, Any]) -> list[Resource]:
    """Custom resources of a ``tools.render`` manifest (components carry no props). In a
    preview-mode render, reading an unknown value raises, as under CrossGuard."""
    preview = manifest.get("mode") == PREVIEW_MODE
    return [
        Resource(
            type=r["type"],
            name=r["name"],
            props=unknown_checking(r.get("inputs", {})) if preview else r.get("inputs", {}),
            protect=bool(r.get("options", {}).get("protect")),
            id=r.get("id", ""),
        )
        for r in manifest.get("resources", [])
        if r.get("custom", True)
    ]


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_context(
    manifest: Mapping[str, Any], resources: list[Resource], functions_root: Path
) -> Context:
    stack = manifest.get("stack") or infer_stack(resources)
    return Context(stack=stack, public_services=public_agents(functions_root))
