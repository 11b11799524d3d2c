"""``python -m policy.switchboard_policies [rendered/dev.json ...] [--functions-root functions]``

Runs every policy over rendered manifests (default: rendered/*.json); exit 1 on a violation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR, CatalogueError, load_catalogue
from infra.settings import SettingsError
from library.command_errors import exits_on

from .registry import run_policies
from .renders import load_manifest, manifest_context, resources_from_manifest

REPO_ROOT = Path(__file__).resolve().parents[2]


@exits_on(CatalogueError, SettingsError)  # as tools.catalogue_errors (a higher layer)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy.switchboard_policies")
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    args = parser.parse_args(argv)
    load_catalogue(args.functions_root)  # an invalid catalogue: its problems, exit 2
    paths = args.manifests or sorted((REPO_ROOT / "rendered").glob("*.json"))
    failed = False
    for path in paths:
        manifest = load_manifest(path)
        resources = resources_from_manifest(manifest)
        report = run_policies(resources, manifest_context(manifest, resources, args.functions_root))
        status = "FAIL" if report.violations else "ok"
        print(f"{path}: {status} ({len(report.violations)} violations, {len(resources)} resources)")
        for violation in report.violations:
            print(f"  {violation}")
        for note in report.notes:
            print(f"  note {note}")
        failed = failed or bool(report.violations)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
