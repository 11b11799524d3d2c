"""``python -m tools.preflight [STACK ...]``: model the first ``pulumi up`` of each stack.

Reads ``rendered/<stack>.json`` (``make render``), the stack file, and the archives the
repository builds; prints each finding with its resource and fix; exits 1 on any, 2 when a
render or stack file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

from infra.catalogue import FUNCTIONS_DIR, Catalogue, load_catalogue
from infra.catalogue.errors import CatalogueError
from infra.offline.harness import stack_config
from infra.packaging.archive import PackagingError, build_archive
from infra.program import validate_settings
from infra.settings import SECRET_EXTERNAL, SecretSource, SettingsError, parse_settings
from tools.preflight.graph import Render
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
    )


def archive_requirements(functions: Path) -> dict[str, list[str]]:
    """Object name -> requirement lines, for every agent archive the repository builds."""
    found: dict[str, list[str]] = {}
    try:
        agents = load_catalogue(functions).agents
        for agent in sorted(agents):
            built = build_archive(functions, agent, BUILD_DIR)
            with zipfile.ZipFile(built.path) as opened:
                lines = opened.read("requirements.txt").decode().splitlines()
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


def report(stack: str, findings: list[Finding]) -> str:
    if not findings:
        return f"{stack}: first deploy OK (no findings)"
    lines = [f"{stack}: {len(findings)} finding(s)"]
    for f in findings:
        lines.append(f"  [{f.rule}] {f.resource}\n      {f.problem}\n      fix: {f.fix}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__)
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="dev, staging, prod (all)")
    parser.add_argument("--rendered", type=Path, default=REPO_ROOT / "rendered")
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
            findings = check(load_render(stack, args.rendered), facts)
        except PreflightInputError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(report(stack, findings))
        failed = failed or bool(findings)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
