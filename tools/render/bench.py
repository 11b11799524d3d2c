"""``python -m tools.render.bench [--agents 25 50 100] [--stack dev]``: render time for a
synthetic catalogue (the ledger agent cloned N times into a temporary functions root).

The clones' archives land in ``.build/archives/bench-*`` (the program's build dir) and
are removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR
from tools.render.manifest import manifest_json, render_stack

TEMPLATE_AGENT = "ledger"
PREFIX = "bench"


def synthetic_functions(target: Path, agents: int) -> Path:
    """functions/ with the real agents plus ``agents`` clones of the template agent."""
    root = target / "functions"
    shutil.copytree(FUNCTIONS_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    for i in range(agents):
        shutil.copytree(root / TEMPLATE_AGENT, root / f"{PREFIX}-{i:03d}")
    return root


def time_render(stack: str, functions_root: Path | None) -> tuple[float, int, int]:
    started = time.perf_counter()
    manifest = render_stack(stack, functions_root=functions_root)
    elapsed = time.perf_counter() - started
    return elapsed, len(manifest["resources"]), len(manifest_json(manifest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.render.bench", description=__doc__)
    parser.add_argument("--agents", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    from infra.program import BUILD_DIR

    time_render(args.stack, None)  # warm imports
    print("agents  resources  seconds  manifest-bytes")
    elapsed, resources, size = time_render(args.stack, None)
    print(f"{'real':>6}  {resources:>9}  {elapsed:>7.2f}  {size:>14}")
    try:
        for count in args.agents:
            with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as temp:
                root = synthetic_functions(Path(temp), count)
                elapsed, resources, size = time_render(args.stack, root)
                print(f"{count + 6:>6}  {resources:>9}  {elapsed:>7.2f}  {size:>14}")
    finally:
        for path in BUILD_DIR.glob(f"{PREFIX}-*"):
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
