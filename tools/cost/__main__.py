"""``python -m tools.cost [--stack S ...] [--traffic FILE] [--json] [--free-tier] [--naive]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.catalogue.loader import load_catalogue
from tools.catalogue_errors import exits_on_catalogue_error
from tools.cost.calibration import CALIBRATION_FILE, load_calibration
from tools.cost.errors import CostInputError
from tools.cost.estimate import GROWTH_MONTH, Estimate, estimate
from tools.cost.lineitems import Scenario
from tools.cost.prices import PRICES_FILE, load_prices
from tools.cost.render_facts import read_render
from tools.cost.report import text_report, to_json
from tools.cost.traffic import load_traffic, traffic_path
from tools.render.manifest import STACKS

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_RENDER_BYTES = 64 * 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.cost",
        description="Monthly cost of each stack at list prices, from the catalogue, the "
        "committed render, the stack's traffic profile and the calibration (docs/cost.md).",
    )
    parser.add_argument("--stack", action="append", choices=STACKS, help="repeatable; default all")
    parser.add_argument("--traffic", type=Path, help="traffic profile (one stack only)")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION_FILE)
    parser.add_argument("--prices", type=Path, default=PRICES_FILE)
    parser.add_argument("--rendered", type=Path, default=REPO_ROOT / "rendered")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--free-tier",
        action="store_true",
        help="apply the billing account's free tiers (shared by every project on the account)",
    )
    parser.add_argument(
        "--naive", action="store_true", help="the same fleet with no filters, every agent warm"
    )
    args = parser.parse_args(argv)
    if args.traffic is not None and len(args.stack or []) != 1:
        parser.error("--traffic needs exactly one --stack")
    return args


def read_render_file(path: Path) -> dict:
    try:
        raw = path.read_bytes()[: MAX_RENDER_BYTES + 1]
    except OSError as error:
        raise CostInputError(f"{path}: cannot read the render ({error.strerror})") from None
    if len(raw) > MAX_RENDER_BYTES:
        raise CostInputError(f"{path}: over {MAX_RENDER_BYTES} bytes")
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise CostInputError(f"{path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise CostInputError(f"{path}: not a render (a JSON object)")
    return data


def stack_estimates(
    stack: str, args: argparse.Namespace, rendered: Path | None = None
) -> tuple[Estimate, Estimate]:
    """Month 1 and month 12 of ``stack`` (``rendered``: the folder with its render)."""
    catalogue = load_catalogue()
    prices = load_prices(args.prices)
    calibration = load_calibration(args.calibration)
    facts = read_render(read_render_file((rendered or args.rendered) / f"{stack}.json"))
    traffic = load_traffic(args.traffic or traffic_path(stack))
    results = []
    for month in (1, GROWTH_MONTH):
        results.append(
            estimate(
                catalogue,
                facts,
                traffic,
                calibration,
                prices,
                scenario=Scenario(month=month, naive=args.naive),
                free_tier=args.free_tier,
            )
        )
    return results[0], results[1]


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prices = None
    outputs: list[str] = []
    documents = []
    try:
        prices = load_prices(args.prices)
        for stack in args.stack or STACKS:
            first, later = stack_estimates(stack, args)
            if args.json:
                documents.append(to_json(first, prices, later))
            else:
                outputs.append(text_report(first, later))
    except CostInputError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
    else:
        print("\n\n".join(outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
