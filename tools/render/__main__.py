"""``python -m tools.render dev|staging|prod|all [--out rendered/] [--check] [--preview]``.

``--preview`` renders as a first ``pulumi preview`` runs the program (every computed output
unknown). Preview renders are not committed: ``make preflight`` makes them on the fly into
``.build/rendered-preview/`` (a committed copy would repeat every change of ``rendered/``
in review, with ``[unknown]`` in place of values).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools.catalogue_errors import exits_on_catalogue_error
from tools.render.manifest import STACKS, manifest_json, render_stack

DEFAULT_OUT = Path("rendered")
PREVIEW_OUT = Path(".build/rendered-preview")
COMMAND = "python -m tools.render all"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.render",
        description="Render stacks offline (real program, Pulumi mocks) into JSON manifests.",
    )
    parser.add_argument("stack", choices=[*STACKS, "all"], help="stack to render, or all")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output directory (default {DEFAULT_OUT}/, with --preview {PREVIEW_OUT}/)",
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="render as a first `pulumi preview` runs: computed outputs are [unknown]",
    )
    parser.add_argument(
        "--functions-root", type=Path, default=None, help="render another functions/ tree"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a manifest in --out is missing or stale",
    )
    parser.add_argument("--quiet", action="store_true", help="no timing lines")
    return parser.parse_args(argv)


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.out is None:
        args.out = PREVIEW_OUT if args.preview else DEFAULT_OUT
    stacks = STACKS if args.stack == "all" else (args.stack,)
    stale: list[str] = []
    for stack in stacks:
        started = time.perf_counter()
        manifest = render_stack(stack, functions_root=args.functions_root, preview=args.preview)
        text = manifest_json(manifest)
        elapsed = time.perf_counter() - started
        path = args.out / f"{stack}.json"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if not args.quiet:
            print(f"{stack}: {path} ({elapsed:.2f}s)", file=sys.stderr)
    if stale:
        print(f"stale manifests: {', '.join(stale)}; run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
