"""What the pure policies know of the catalogue: the agents allowed to be public.

Imported by the CrossGuard pack too (its own venv: nothing of the repository beyond
``switchboard_policies``); the rendered manifests are read in :mod:`.renders`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml


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
