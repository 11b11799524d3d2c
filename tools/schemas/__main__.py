"""``python -m tools.schemas [--check | --print [--functions-root DIR]]``: regenerate
``schemas/events/`` from the models, or (``--check``) exit 1 naming every file that is not
current, or (``--print``) write the registry's files as one JSON object to stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR
from tools.schemas.registry import SCHEMAS_DIR, RegistryError, files, generate, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    parser.add_argument("--print", action="store_true", help="the files as JSON on stdout")
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    args = parser.parse_args(argv)
    try:
        registry = generate(args.functions_root)
    except RegistryError as error:
        print(error, file=sys.stderr)
        return 2
    if args.print:
        sys.stdout.write(json.dumps(files(registry)))
        return 0
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
