"""``python -m tools.secrets check NAME < value`` (exit 0 well-formed, 1 malformed, 2 no
such secret) and ``python -m tools.secrets list``."""

from __future__ import annotations

import argparse
import sys

from infra.catalogue import load_catalogue
from tools.catalogue_errors import exits_on_catalogue_error
from tools.secrets.formats import FORMATS, MAX_VALUE_BYTES, problem


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.secrets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a value read from stdin (never printed)")
    check.add_argument("name", help="a secret declared in functions/catalogue.yaml")
    commands.add_parser("list", help="every secret: who reads it, its format, where to get it")
    args = parser.parse_args(argv)
    catalogue = load_catalogue()
    readers: dict[str, list[str]] = {name: [] for name in catalogue.secrets}
    for agent in catalogue.agents.values():
        for secret in agent.secrets:
            readers[secret].append(agent.name)
    if args.command == "list":
        for name in sorted(catalogue.secrets):
            known = FORMATS.get(name)
            print(f"{name} (read by {', '.join(sorted(readers[name])) or 'no agent'})")
            if known:
                print(f"  format: {known.summary}\n  get it: {known.source}")
        return 0
    if args.name not in catalogue.secrets:
        print(
            f"no secret {args.name!r} in functions/catalogue.yaml "
            f"(secrets: {', '.join(sorted(catalogue.secrets))})",
            file=sys.stderr,
        )
        return 2
    if args.name not in FORMATS:
        print(
            f"{args.name}: no format known (add one in tools/secrets/formats.py)", file=sys.stderr
        )
        return 2
    why = problem(args.name, sys.stdin.buffer.read(MAX_VALUE_BYTES + 1))
    if why is not None:
        print(
            f"{args.name}: malformed: {why}\n  expected: {FORMATS[args.name].summary}",
            file=sys.stderr,
        )
        return 1
    print(f"{args.name}: well-formed ({FORMATS[args.name].summary.split(':')[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
