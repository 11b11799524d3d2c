"""``python -m tools.test_agent NAME [PYTEST ARGS...]`` (``make test-agent NAME=...``)

Runs one agent's tests, ``tests/functions/agents/test_NAME.py`` (where the scaffold
writes them), emulator tests included: their fixtures start the Pub/Sub and Firestore
emulators they need and stop them after (without the emulators those tests skip, saying
why). An unknown agent or a missing test file is named, with what exists (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys

from infra.catalogue import load_catalogue
from tools.catalogue_errors import exits_on_catalogue_error
from tools.new_agent.__main__ import AGENT_TESTS, REPO_ROOT
from tools.new_agent.scaffold import agent_test_path

EXIT_USAGE = 2


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.test_agent", description=__doc__)
    parser.add_argument("name", help="the agent (a folder of functions/)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    args = parser.parse_args(argv)
    agents = sorted(load_catalogue().agents)
    if args.name not in agents:
        print(
            f"no agent {args.name!r} in functions/ (agents: {', '.join(agents)}); "
            "usage: make test-agent NAME=<agent>",
            file=sys.stderr,
        )
        return EXIT_USAGE
    path = agent_test_path(AGENT_TESTS, args.name)
    if not path.is_file():
        print(
            f"agent {args.name!r} has no tests at {path.relative_to(REPO_ROOT)} "
            "(make agent writes one there)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    command = [sys.executable, "-m", "pytest", str(path.relative_to(REPO_ROOT)), *args.pytest_args]
    print(" ".join(command[1:]), flush=True)
    os.chdir(REPO_ROOT)
    os.execv(sys.executable, command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
