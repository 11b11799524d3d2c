"""``python -m tools.render dev|staging|prod|all [--out rendered/] [--check]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools.catalogue_errors import exits_on_catalogue_error
from tools.render.manifest import STACKS, manifest_json, render_stack

DEFAULT_OUT = Path("rendered")
COMMAND = "python -m tools.render all"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.render",
        description="Render stacks offline (real program, Pulumi mocks) into JSON manifests.",
    )
    parser.add_argument("stack", choices=[*STACKS, "all"], help="stack to render, or all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
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
    stacks = STACKS if args.stack == "all" else (args.stack,)
    stale: list[str] = []
    for stack in stacks:
        started = time.perf_counter()
        text = manifest_json(render_stack(stack, functions_root=args.functions_root))
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
