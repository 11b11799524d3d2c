"""``python -m tools.reference [--check]``: regenerate docs/reference.md (stack settings,
agent manifest, catalogue) from the pydantic models, or (``--check``) exit 1 if the
committed file is not current. A field with no description fails, naming the field."""

from __future__ import annotations

import argparse
import sys

from tools.reference.document import COMMAND, REFERENCE, stale, write
from tools.reference.fields import UndescribedFieldError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if stale():
                print(f"{REFERENCE} is not current: run `{COMMAND}` and commit it", file=sys.stderr)
                return 1
            return 0
        path = write()
    except UndescribedFieldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path.relative_to(path.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
