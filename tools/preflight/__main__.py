"""``python -m tools.preflight [STACK ...]``: model the first ``pulumi up`` of each stack,
and its first ``pulumi preview``.

Reads ``rendered/<stack>.json`` (``make render``), the stack file, and the archives the
repository builds; renders each stack as a first preview runs it (or reads
``--preview-rendered DIR``, see :mod:`tools.preflight.preview`); prints each finding with
its resource and fix; exits 1 on any, 2 when a render or stack file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.catalogue import FUNCTIONS_DIR, Catalogue, load_catalogue
from infra.catalogue.errors import CatalogueError
from infra.offline.harness import stack_config
from infra.packaging.archive import (
    REQUIREMENTS,
    PackagingError,
    archive_entries,
    archive_kind,
    build_archive,
)
from infra.program import validate_settings
from infra.settings import (
    SECRET_EXTERNAL,
    OrganizationPolicySettings,
    SecretSource,
    SettingsError,
    parse_settings,
)
from tools.preflight.graph import Render
from tools.preflight.preview import PreviewFailedError, check_preview, preview_manifest
from tools.preflight.preview_rules import check_reads
from tools.preflight.rules import Finding, StackFacts, check
from tools.render.manifest import STACKS

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".build" / "archives"


class PreflightInputError(Exception):
    """A render or stack file that cannot be read (names it)."""


def stack_facts(
    stack: str,
    root: Path = REPO_ROOT,
    functions: Path = FUNCTIONS_DIR,
    archives: dict[str, list[str]] | None = None,
    catalogue: Catalogue | None = None,
) -> StackFacts:
    """The stack file's facts, and the archives the repository builds (``archives``, when
    the caller already built them for another stack: they do not depend on the stack)."""
    path = root / f"Pulumi.{stack}.yaml"
    try:
        catalogue = catalogue or load_catalogue(functions)
        # The program's reading and checks: a settings mistake is named here too.
        validate_settings(parse_settings(stack, stack_config(stack, root)), catalogue)
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (SettingsError, CatalogueError) as error:
        raise PreflightInputError(str(error)) from None
    except (OSError, yaml.YAMLError) as error:
        raise PreflightInputError(f"{path}: cannot read ({error})") from None
    sources = (document.get("config") or {}).get("switchboard:secrets") or {}
    external: dict[str, str] = {}
    for name, raw in sources.items():
        try:
            source = SecretSource.parse(raw)
        except ValueError as error:
            raise PreflightInputError(f"{path}: switchboard:secrets.{name}: {error}") from None
        if source.kind == SECRET_EXTERNAL and source.version:
            external[str(name)] = source.version
    return StackFacts(
        external_secrets=external,
        secrets_provider=document.get("secretsprovider"),
        archive_requirements=archives if archives is not None else archive_requirements(functions),
        organization=organization_policies(path, document),
    )


def organization_policies(path: Path, document: dict[str, Any]) -> OrganizationPolicySettings:
    """``switchboard:organizationPolicies`` of a stack file, validated as the program does."""
    raw = (document.get("config") or {}).get("switchboard:organizationPolicies") or {}
    try:
        return OrganizationPolicySettings.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(value)'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise PreflightInputError(f"{path}: switchboard:organizationPolicies: {problems}") from None


def archive_requirements(functions: Path) -> dict[str, list[str]]:
    """Object name -> requirement lines, for every agent archive the repository builds."""
    found: dict[str, list[str]] = {}
    try:
        agents = load_catalogue(functions).agents
        for agent in sorted(agents):
            kind = archive_kind(agents[agent].platform)
            built = build_archive(functions, agent, BUILD_DIR, kind)
            lines = archive_entries(functions, agent)[REQUIREMENTS].decode().splitlines()
            found[built.object_name] = [
                line.strip() for line in lines if line.strip() and not line.startswith("#")
            ]
    except (CatalogueError, PackagingError) as error:
        raise PreflightInputError(str(error)) from None
    return found


def load_render(stack: str, rendered: Path) -> Render:
    path = rendered / f"{stack}.json"
    try:
        manifest: Any = json.loads(path.read_text(encoding="utf-8"))
        return Render.from_manifest(manifest)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PreflightInputError(f"{path}: not a render ({error}); run `make render`") from None


def _check_preview(
    stack: str, directory: Path | None, update: Render, facts: StackFacts
) -> tuple[list[Finding], int]:
    try:
        manifest = _preview(stack, directory)
    except PreviewFailedError as error:
        failed = Finding(
            "preview-runs",
            f"{stack} (first preview)",
            f"the program fails when run as a first `pulumi preview` (every computed output "
            f"unknown): {error}",
            "make the failing code accept unknown values (python -m tools.render "
            f"{stack} --preview shows the traceback)",
        )
        return [failed], 0
    return check_preview(manifest, update, facts)


def _preview(stack: str, directory: Path | None) -> dict[str, Any]:
    try:
        return preview_manifest(stack, directory)
    except (OSError, ValueError, KeyError, TypeError) as error:
        where = directory / f"{stack}.json" if directory else f"preview of {stack}"
        raise PreflightInputError(
            f"{where}: not a preview render ({error}); run `python -m tools.render all --preview`"
        ) from None


def report(stack: str, findings: list[Finding], ok: str = "first deploy OK") -> str:
    if not findings:
        return f"{stack}: {ok} (no findings)"
    lines = [f"{stack}: {len(findings)} finding(s)"]
    for f in findings:
        lines.append(f"  [{f.rule}] {f.resource}\n      {f.problem}\n      fix: {f.fix}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__)
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="dev, staging, prod (all)")
    parser.add_argument("--rendered", type=Path, default=REPO_ROOT / "rendered")
    parser.add_argument(
        "--preview-rendered",
        type=Path,
        default=None,
        help="preview-mode renders to check (default: render them now)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.stacks) - set(STACKS))
    if unknown:
        parser.error(f"unknown stack {', '.join(unknown)} (stacks: {', '.join(STACKS)})")
    failed = False
    try:
        archives = archive_requirements(FUNCTIONS_DIR)  # once: the same for every stack
    except PreflightInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for stack in args.stacks or STACKS:
        try:
            facts = stack_facts(stack, archives=archives)
            update = load_render(stack, args.rendered)
            findings = [*check(update, facts), *check_reads(update, facts)]
            preview, advisory = _check_preview(stack, args.preview_rendered, update, facts)
        except PreflightInputError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(report(stack, findings))
        ok = f"first preview OK, {advisory} policy checks wait for `pulumi up`"
        print(report(f"{stack} (preview)", preview, ok))
        failed = failed or bool(findings) or bool(preview)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
