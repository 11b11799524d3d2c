"""``python -m tools.reference [--check]``: regenerate docs/reference.md (stack settings,
agent manifest, catalogue) from the pydantic models and the README's per-stack table from
the stack files, or (``--check``) exit 1 naming each file that is not current. A field with
no description fails, naming the field."""

from __future__ import annotations

import argparse
import sys

from tools.reference.document import COMMAND, stale, write
from tools.reference.fields import UndescribedFieldError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            for path in (problems := stale()):
                print(f"{path} is not current: run `{COMMAND}` and commit it", file=sys.stderr)
            return 1 if problems else 0
        written = write()
    except UndescribedFieldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(map(str, written)) if written else "already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
