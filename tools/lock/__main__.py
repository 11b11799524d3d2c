"""``python -m tools.lock [--check]``: the agents' lock from what is installed here.

The roots are every ``functions/*/requirements.txt`` (the shared runtime's included); the
closure follows each installed distribution's ``Requires-Dist``, keeping a dependency when
its marker holds on any runtime agents may use (Python 3.11 to 3.13 on Linux) and only the
extras that are asked for. ``--check`` exits 1 when the committed lock differs.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.catalogue import FUNCTIONS_DIR
from infra.packaging.lock import (
    LOCK_FILE,
    Locked,
    LockError,
    format_lock,
    parse_requirements,
)

RUNTIMES = ("3.11", "3.12", "3.13")


def _applies(marker: Marker | None, extras: frozenset[str]) -> bool:
    if marker is None:
        return True
    for version in RUNTIMES:
        for extra in extras or {""}:
            environment = {
                "python_version": version,
                "python_full_version": f"{version}.0",
                "sys_platform": "linux",
                "platform_system": "Linux",
                "os_name": "posix",
                "platform_machine": "x86_64",
                "implementation_name": "cpython",
                "platform_python_implementation": "CPython",
                "extra": extra,
            }
            if marker.evaluate(environment):
                return True
    return False


def roots(functions_root: Path) -> list[Requirement]:
    found: list[Requirement] = []
    for path in sorted(functions_root.glob("*/requirements.txt")):
        found += parse_requirements(path.read_text(encoding="utf-8").splitlines(), str(path))
    return found


def build_lock(functions_root: Path) -> dict[str, Locked]:
    """The closure of every agent's requirements, as installed here."""
    pending: list[tuple[str, frozenset[str]]] = [
        (canonicalize_name(r.name), frozenset(r.extras)) for r in roots(functions_root)
    ]
    locked: dict[str, Locked] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    requires: dict[str, set[str]] = {}
    while pending:
        key, extras = pending.pop()
        if (key, extras) in done:
            continue
        done.add((key, extras))
        try:
            dist = metadata.distribution(key)
        except metadata.PackageNotFoundError:
            raise LockError(
                f"{key} is required but not installed here: run `make venv` first"
            ) from None
        needs = requires.setdefault(key, set())
        for line in dist.requires or []:
            requirement = Requirement(line)
            if _applies(requirement.marker, extras):
                child = canonicalize_name(requirement.name)
                needs.add(child)
                pending.append((child, frozenset(requirement.extras)))
        locked[key] = Locked(dist.metadata["Name"], dist.version, ())
    return {
        key: Locked(entry.name, entry.version, tuple(sorted(requires.get(key, set()))))
        for key, entry in locked.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.lock", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the lock is stale")
    parser.add_argument("--functions", type=Path, default=FUNCTIONS_DIR)
    args = parser.parse_args(argv)
    path = args.functions / LOCK_FILE
    try:
        text = format_lock(build_lock(args.functions))
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run `make lock` and commit it", file=sys.stderr)
            return 1
        print(f"{path}: current")
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
