"""The preview-mode half of the preflight: the program as a first ``pulumi preview`` runs
it (``tools.render --preview``), checked by the preflight's rules and by the policies.

Preview renders are not committed (they would repeat every change of ``rendered/`` in
review, with ``[unknown]`` for values): the preflight renders them on the fly, or reads
them from a directory (``python -m tools.render all --preview`` writes
``.build/rendered-preview/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.catalogue import FUNCTIONS_DIR
from policy.switchboard_policies import run_policies
from policy.switchboard_policies.renders import manifest_context, resources_from_manifest
from tools.preflight.graph import Render
from tools.preflight.preview_rules import check_reads, preview_declares_the_same
from tools.preflight.rules import Finding, StackFacts, check
from tools.render.manifest import MODE_PREVIEW, manifest_json, render_stack


class PreviewFailedError(Exception):
    """The program failed when run as a first preview (the engine would stop there)."""


def preview_manifest(stack: str, directory: Path | None = None) -> dict[str, Any]:
    """``stack``'s preview-mode render: from ``directory/<stack>.json`` when given (it must
    be a preview render), else rendered now (:class:`PreviewFailedError` if the program
    fails: a dynamic provider's check refusing an unknown input, an ``.apply`` that
    assumed a value, a read that raised)."""
    if directory is None:
        try:
            return json.loads(manifest_json(render_stack(stack, preview=True)))
        except Exception as error:  # any failure of the program is the finding
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise PreviewFailedError(f"{type(error).__name__}: {first[:500]}") from None
    path = directory / f"{stack}.json"
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("mode") != MODE_PREVIEW:
        raise ValueError(f"mode is {manifest.get('mode')!r}, not a preview render")
    return manifest


def policy_findings(manifest: dict[str, Any]) -> tuple[list[Finding], int]:
    """The policies over a render: violations as findings, and how many could not run
    (a policy that reads an unknown value: advisory, as CrossGuard)."""
    resources = resources_from_manifest(manifest)
    report = run_policies(resources, manifest_context(manifest, resources, FUNCTIONS_DIR))
    findings = [
        Finding(f"policy:{v.policy}", v.resource, v.message, "see policy/switchboard_policies")
        for v in report.violations
    ]
    advisory = sum("can't run during preview" in n.message for n in report.notes)
    return findings, advisory


def check_preview(
    manifest: dict[str, Any], update: Render, facts: StackFacts
) -> tuple[list[Finding], int]:
    """Every preflight rule, the reads rules, the same-plan rule and the policies over a
    preview-mode render; and the number of policies that cannot run at preview."""
    preview = Render.from_manifest(manifest)
    findings = [*check(preview, facts), *check_reads(preview, facts)]
    findings += preview_declares_the_same(preview, update)
    violations, advisory = policy_findings(manifest)
    return [*findings, *violations], advisory
