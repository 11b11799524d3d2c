"""The pure policies' inputs outside CrossGuard: rendered manifests, read with
:mod:`library.render_format` (``python -m policy.switchboard_policies`` and preflight;
never imported by the pack, whose venv has no ``library``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from library.render_format import parse

from .model import Context, Resource, infer_stack, unknown_checking
from .sources import public_agents


def resources_from_manifest(manifest: Mapping[str, Any]) -> list[Resource]:
    """Custom resources of a ``tools.render`` manifest (components carry no props). In a
    preview-mode render, reading an unknown value raises, as under CrossGuard."""
    rendered = parse(manifest)
    return [
        Resource(
            type=r.type,
            name=r.name,
            props=unknown_checking(r.inputs) if rendered.preview else r.inputs,
            protect=r.protect,
            id=r.id,
        )
        for r in rendered.resources
        if r.custom
    ]


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_context(
    manifest: Mapping[str, Any], resources: list[Resource], functions_root: Path
) -> Context:
    stack = parse(manifest).stack or infer_stack(resources)
    return Context(stack=stack, public_services=public_agents(functions_root))
