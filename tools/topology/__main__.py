"""``python -m tools.topology [--out-dir docs] [--functions-root functions] [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from library.topology.graph import build_graph
from library.topology.mermaid import to_mermaid
from library.topology.svg import to_svg
from tools.catalogue_errors import exits_on_catalogue_error

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m tools.topology"


def outputs(functions_root: Path) -> dict[str, str]:
    graph = build_graph(load_catalogue(functions_root))
    return {"topology.mmd": to_mermaid(graph), "topology.svg": to_svg(graph)}


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.topology", description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "docs")
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for name, text in outputs(args.functions_root).items():
        path = args.out_dir / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    if stale:
        print(f"stale: {', '.join(stale)}; run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
