"""``python -m tools.diff [--stack S ...] [--base REF [--head REF] | --stacks A B]
[--markdown] [--output FILE] [--fail-on-warnings] [--contracts-only]``.

Besides the renders, compares the event contracts (:mod:`tools.diff.contracts`) of the
base ref (HEAD by default) and the head: exits 3 when a schema change is incompatible."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR
from tools.catalogue_errors import exits_on_catalogue_error
from tools.cost.review import cost_section
from tools.diff.compare import Diff, compare
from tools.diff.contracts import (
    GATE_EXIT,
    ContractDiff,
    ContractSideError,
    contract_diff,
    markdown_section,
    side_at_ref,
    side_of_tree,
    text_section,
)
from tools.diff.report import markdown_report, text_report
from tools.diff.sources import (
    RefRenderError,
    committed,
    committed_at,
    render_refs,
    working_tree,
)
from tools.render.manifest import STACKS

REPO_ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.diff",
        description="Diff offline renders: a fresh render of the working tree vs the "
        "manifests committed at HEAD (default; `make render` does not change that side), "
        "two git refs (--base/--head), or two stacks (--stacks).",
    )
    parser.add_argument("--stack", action="append", choices=STACKS, help="repeatable; default all")
    parser.add_argument(
        "--rendered",
        type=Path,
        help="base side: the renders in this folder (default: rendered/ as committed at HEAD)",
    )
    parser.add_argument("--base", help="git ref of the base side (e.g. origin/main)")
    parser.add_argument("--head", help="git ref of the head side (default: the working tree)")
    parser.add_argument("--stacks", nargs=2, metavar=("A", "B"), choices=STACKS)
    parser.add_argument("--functions-root", type=Path, help="head side: another functions/")
    parser.add_argument("--markdown", action="store_true", help="Markdown for a PR comment")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--fail-on-warnings", action="store_true", help="exit 2 when a data-losing change exists"
    )
    parser.add_argument("--no-cost", action="store_true", help="leave out the cost before/after")
    parser.add_argument(
        "--contracts-only", action="store_true", help="only the event contracts, no renders"
    )
    args = parser.parse_args(argv)
    if args.stacks and (args.base or args.head):
        parser.error("--stacks cannot be combined with --base/--head")
    if args.head and not args.base:
        parser.error("--head needs --base")
    return args


COMPARED: list[tuple[str, dict, dict]] = []
"""(stack, base render, head render) of each stack ``collect`` compared, for the cost part."""


def _compare(stack: str, base: dict, head: dict, base_label: str, head_label: str) -> Diff:
    COMPARED.append((stack, base, head))
    return compare(base, head, base_label, head_label)


def collect(args: argparse.Namespace) -> list[tuple[str, Diff]]:
    if args.stacks:
        a, b = args.stacks
        base, head = working_tree(a), working_tree(b, args.functions_root)
        return [(f"{a} vs {b}", compare(base, head, a, b, replacements=False))]
    stacks = args.stack or list(STACKS)
    if args.base:
        bases = render_refs(REPO_ROOT, args.base, stacks)
        if args.head:
            heads = render_refs(REPO_ROOT, args.head, stacks)
            head_label = args.head
        else:
            heads = {s: working_tree(s, args.functions_root) for s in stacks}
            head_label = "working tree"
        return [(s, _compare(s, bases[s], heads[s], args.base, head_label)) for s in stacks]
    return [
        (
            s,
            _compare(
                s,
                committed(s, args.rendered)
                if args.rendered
                else committed_at(REPO_ROOT, "HEAD", s),
                working_tree(s, args.functions_root),
                f"{args.rendered}/{s}.json" if args.rendered else f"rendered/{s}.json at HEAD",
                "working tree",
            ),
        )
        for s in stacks
    ]


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        diffs = [] if args.contracts_only else collect(args)
        contracts = None if args.stacks else collect_contracts(args)
    except (RefRenderError, ContractSideError) as error:
        print(f"tools.diff: {error}", file=sys.stderr)
        return 1
    report = markdown_report(diffs) if args.markdown else text_report(diffs)
    if args.contracts_only:
        report = ""
    elif not args.no_cost:
        section = cost_section(COMPARED)
        report += f"\n```\n{section.strip()}\n```\n" if args.markdown and section else section
    if contracts is not None:
        report += markdown_section(contracts) if args.markdown else text_section(contracts)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if contracts is not None and contracts.failed:
        return GATE_EXIT
    if args.fail_on_warnings and any(d.warnings for _, d in diffs):
        return 2
    return 0


def collect_contracts(args: argparse.Namespace) -> ContractDiff:
    """The event contracts of the base ref (HEAD by default) vs the head ref or tree."""
    base = side_at_ref(REPO_ROOT, args.base or "HEAD")
    if args.head:
        head = side_at_ref(REPO_ROOT, args.head)
    else:
        head = side_of_tree(args.functions_root or FUNCTIONS_DIR)
    return contract_diff(base, head)


if __name__ == "__main__":
    sys.exit(main())
