"""``python -m tools.new_agent NAME --topic TOPIC [--types A,B] [--platform function|run]``

Writes ``functions/NAME/`` (agent.yaml, main.py on the shared runtime, requirements.txt)
and ``tests/functions/agents/test_NAME.py``. Refuses a name that exists or a manifest the
catalogue's rules reject (exit 2, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR
from tools.catalogue_errors import exits_on_catalogue_error
from tools.new_agent.scaffold import PLATFORMS, Request, ScaffoldError, scaffold

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT_TESTS = REPO_ROOT / "tests" / "functions" / "agents"
EXIT_REFUSED = 2


def _types(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.new_agent", description=__doc__)
    parser.add_argument("name", help="the agent's name: its folder under functions/")
    parser.add_argument("--topic", required=True, help="the topic it consumes")
    parser.add_argument(
        "--types", type=_types, default=(), help="comma-separated event types (default: all)"
    )
    parser.add_argument("--platform", choices=PLATFORMS, default="function")
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    parser.add_argument("--tests-dir", type=Path, default=AGENT_TESTS)
    args = parser.parse_args(argv)
    request = Request(args.name, args.topic, args.types, args.platform)
    try:
        written = scaffold(request, args.functions_root.resolve(), args.tests_dir)
    except ScaffoldError as error:
        print(f"cannot scaffold {args.name!r}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    for path in written:
        print(f"wrote {_relative(path)}")
    print(
        f"next: make test-agent NAME={args.name} (its tests, emulator ones included), then "
        "make render topology (commit rendered/ and docs/topology.*); "
        f"under make dev: make publish TOPIC={args.topic} TYPE=... DATA='{{...}}'"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
