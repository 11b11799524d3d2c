"""``python -m tools.schemas [--check]``: regenerate ``schemas/events/`` from the models,
or (``--check``) exit 1 naming every file that is not current."""

from __future__ import annotations

import argparse
import sys

from tools.schemas.registry import SCHEMAS_DIR, generate, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    registry = generate()
    if args.check:
        problems = stale(registry)
        for problem in problems:
            print(f"{SCHEMAS_DIR}: {problem}", file=sys.stderr)
        if problems:
            print("run `make schemas` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    written = write(registry)
    print(f"wrote {len(written)} files under {SCHEMAS_DIR}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
