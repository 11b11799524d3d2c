"""Render/preview cost: the real program under mocks for the real catalogue and for
synthetic catalogues of 10, 50 and 200 agents. Baseline: the real catalogue (6 agents),
same run. Linear growth shows as a flat time-per-agent column.

    .venv/bin/python -m bench.render_cost [--sizes 10 50 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import REPO_ROOT, machine, table

TEMPLATE_AGENT = "ledger"


def synthetic_functions(root: Path, agents: int) -> Path:
    """A functions/ tree with the real catalogue plus clones of the ledger agent, up to
    ``agents`` agents in all (each clone consumes every domain topic: 4 subscriptions)."""
    target = root / f"functions-{agents}"
    shutil.copytree(
        REPO_ROOT / "functions", target, ignore=shutil.ignore_patterns("__pycache__", "tests")
    )
    real = len(list(target.glob("*/agent.yaml")))
    template = yaml.safe_load((target / TEMPLATE_AGENT / "agent.yaml").read_text())
    for index in range(max(0, agents - real)):
        name = f"synthetic-{index:04d}"
        shutil.copytree(target / TEMPLATE_AGENT, target / name)
        (target / name / "agent.yaml").write_text(yaml.safe_dump(template))
    return target


RUNNER = """
import sys, time
from pathlib import Path
start = time.perf_counter()
from infra.offline.harness import run_stack
imported = time.perf_counter()
run = run_stack("dev", functions_root=Path(sys.argv[1]) if sys.argv[1] != "-" else None)
done = time.perf_counter()
print(len(run.registrations), imported - start, done - imported)
"""


def measure(functions_root: Path | None, repeat: int) -> tuple[int, float]:
    """Resources declared, and the median program time (imports excluded), each run in a
    fresh interpreter so no run warms the next."""
    samples, resources = [], 0
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", RUNNER, str(functions_root) if functions_root else "-"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        resources, program = int(out[0]), float(out[2])
        samples.append(program)
    samples.sort()
    return resources, samples[len(samples) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    baseline_resources, baseline = measure(None, args.repeat)
    rows = [
        [
            "real catalogue (6)",
            baseline_resources,
            f"{baseline:.2f}",
            f"{baseline / 6 * 1000:.0f}",
            "1.00",
        ]
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            resources, seconds = measure(synthetic_functions(Path(tmp), size), args.repeat)
            rows.append(
                [
                    f"synthetic ({size})",
                    resources,
                    f"{seconds:.2f}",
                    f"{seconds / size * 1000:.0f}",
                    f"{seconds / baseline:.2f}",
                ]
            )
    print(f"machine: {machine()}")
    print(
        table(
            [
                "catalogue (agents)",
                "resources",
                "program s (median)",
                "ms per agent",
                "ratio vs real",
            ],
            rows,
        )
    )
    print(f"(bench took {time.perf_counter() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
