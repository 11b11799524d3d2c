"""Registrations -> the manifest committed under ``rendered/<stack>.json``.

Format (``switchboard-render/1``)::

    {
      "format": "switchboard-render/1",
      "stack": "dev",
      "mode": "update",         # or "preview": as a first `pulumi preview` runs it, every
                                # output the cloud computes is "[unknown]"
      "summary": {"<type>": <count>, ...},
      "invokes": [              # every data source the program reads, de-duplicated,
        {"token": "gcp:...", "args": {...}}     # sorted; normalised like inputs
      ],
      "resources": [            # sorted by "id"
        {
          "id": "gcp:pubsub/topic:Topic::bookings",     # shortened urn: type::name
          "type": "gcp:pubsub/topic:Topic",
          "name": "bookings",
          "custom": true,
          "parent": "switchboard:bus:EventBus::bus",   # null for top-level resources
          "dependencies": ["<id>", ...],               # sorted, de-duplicated
          "options": {"protect": false, "deleteBeforeReplace": true,
                      "replaceOnChanges": [], "ignoreChanges": [], "retainOnDelete": false},
          "inputs": {...}                              # camelCase, keys sorted, normalised
        }
      ]
    }
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.offline.mocks import InvokeRecord, Registration
from tools.render.normalise import normalise, registration_inputs

if TYPE_CHECKING:
    from infra.offline.harness import Run

FORMAT = "switchboard-render/1"
STACKS = ("dev", "staging", "prod")
STACK_TYPE = "pulumi:pulumi:Stack"
MODE_UPDATE = "update"
MODE_PREVIEW = "preview"


def short_urn(urn: str) -> str:
    """``urn:pulumi:dev::switchboard::a$b::name`` -> ``b::name`` (type::name)."""
    if not urn:
        return ""
    qualified_type, name = urn.split("::", 3)[2:4]
    return f"{qualified_type.rsplit('$', 1)[-1]}::{name}"


def _qualified(urn: str) -> str:
    """The parent-type-qualified form, used only when two short ids collide."""
    return "::".join(urn.split("::", 3)[2:4])


def _id_map(urns: Iterable[str]) -> dict[str, str]:
    urns = sorted(set(urns))
    short = {urn: short_urn(urn) for urn in urns}
    counts = Counter(short.values())
    return {urn: (s if counts[s] == 1 else _qualified(urn)) for urn, s in short.items()}


def render_invokes(invokes: Iterable[InvokeRecord], root: Path) -> list[dict[str, Any]]:
    """Each distinct (token, arguments) the program invoked, sorted."""
    seen: dict[str, dict[str, Any]] = {}
    for invoke in invokes:
        entry = {"token": invoke.token, "args": normalise(dict(invoke.args), root)}
        seen.setdefault(json.dumps(entry, sort_keys=True), entry)
    return [seen[key] for key in sorted(seen)]


def render_manifest(
    registrations: Iterable[Registration],
    stack: str,
    root: Path,
    invokes: Iterable[InvokeRecord] = (),
    *,
    preview: bool = False,
) -> dict[str, Any]:
    """The manifest of one run: every registration and invoke, in a stable order,
    normalised."""
    registrations = [r for r in registrations if r.type != STACK_TYPE]
    ids = _id_map(r.urn for r in registrations)

    def ref(urn: str) -> str | None:
        if not urn or STACK_TYPE in urn.split("::", 3)[2].rsplit("$", maxsplit=1)[-1]:
            return None
        return ids.get(urn, short_urn(urn))

    resources = []
    for r in registrations:
        dependencies = sorted({d for d in (ref(u) for u in r.dependencies) if d})
        resources.append(
            {
                "id": ids[r.urn],
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "parent": ref(r.parent),
                "dependencies": dependencies,
                "options": {
                    "protect": r.protect,
                    "deleteBeforeReplace": r.delete_before_replace,
                    "replaceOnChanges": sorted(r.replace_on_changes),
                    "ignoreChanges": sorted(r.ignore_changes),
                    "retainOnDelete": r.retain_on_delete,
                },
                "inputs": normalise(registration_inputs(r.type, dict(r.inputs)), root),
            }
        )
    resources.sort(key=lambda resource: resource["id"])
    summary = dict(sorted(Counter(r["type"] for r in resources).items()))
    return {
        "format": FORMAT,
        "stack": stack,
        "mode": MODE_PREVIEW if preview else MODE_UPDATE,
        "summary": summary,
        "invokes": render_invokes(invokes, root),
        "resources": resources,
    }


def manifest_json(manifest: dict[str, Any]) -> str:
    """The byte-stable text of a manifest: deterministic insertion order (inputs sorted by
    :func:`normalise`), 2-space indent, final newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def render_stack(
    stack: str,
    functions_root: Path | None = None,
    stack_root: Path | None = None,
    *,
    preview: bool = False,
) -> dict[str, Any]:
    """Run the real program for ``stack`` under mocks and return its manifest
    (``stack_root``: where ``Pulumi.<stack>.yaml`` is, by default the repository);
    ``preview``: as a first ``pulumi preview`` runs it (:mod:`infra.offline.mocks`)."""
    from infra.offline.harness import REPO_ROOT, run_stack

    run = run_stack(
        stack, root=stack_root or REPO_ROOT, functions_root=functions_root, preview=preview
    )
    return manifest_of_run(run, stack)


def manifest_of_run(run: Run, stack: str) -> dict[str, Any]:
    """The manifest of a finished run of ``stack`` (a preview's when the run was one)."""
    from infra.offline.harness import REPO_ROOT

    return render_manifest(run.registrations, stack, REPO_ROOT, run.invokes, preview=run.preview)
