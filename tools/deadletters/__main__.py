"""``python -m tools.deadletters``: list, show, redrive and purge dead letters.

Targets, in order: ``--project`` with Application Default Credentials (a real project);
else the running local platform (``.local/platform.json``); ``PUBSUB_EMULATOR_HOST`` with
``--project`` also works for any emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from library.deadletters.operations import DeadLetterOps
from library.deadletters.records import DeadLetter
from localdev.state import DEFAULT_STATE_DIR, STATE_FILE, NoPlatformError, read_state
from tools.catalogue_errors import exits_on_catalogue_error


def resolve_project(explicit: str | None) -> str:
    if explicit:
        return explicit
    try:
        state = read_state(DEFAULT_STATE_DIR / STATE_FILE)
    except NoPlatformError:
        state = {}
    pubsub = (state.get("pubsub") or {}).get("emulator_host")
    if pubsub:
        os.environ["PUBSUB_EMULATOR_HOST"] = pubsub
    if state.get("project"):
        return str(state["project"])
    raise SystemExit(
        "no target: pass --project PROJECT (with Application Default Credentials, or with "
        "PUBSUB_EMULATOR_HOST for an emulator), or start the local platform (make dev)"
    )


def describe(letter: DeadLetter) -> str:
    age = letter.age_seconds()
    return (
        f"{letter.dead_letter_subscription:42} {letter.message_id:>12} "
        f"{letter.event_type:22} attempts={letter.delivery_count:<3} age={age:8.0f}s "
        f"{letter.reason}"
    )


HEADER = (
    f"{'dead-letter subscription':42} {'message id':>12} {'event type':22} "
    f"{'attempts':12} {'age':12} reason"
)
"""The column titles above :func:`describe`'s rows."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deadletters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--project", help="GCP project id (default: the local platform's)")
    parser.add_argument(
        "--functions", type=Path, default=FUNCTIONS_DIR, help="catalogue root (default: functions/)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def selection(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--agent", help="only this agent's subscriptions")
        sub.add_argument("--subscription", help="one agent subscription (or its dead-letter id)")

    listing = commands.add_parser("list", help="dead letters with reason, source, count, age")
    selection(listing)
    show = commands.add_parser("show", help="one dead letter in full")
    show.add_argument("message_id")
    selection(show)
    redrive = commands.add_parser("redrive", help="send dead letters back to the failed agent")
    selection(redrive)
    redrive.add_argument(
        "--message-id",
        action="append",
        dest="message_ids",
        help="only these (repeatable); default: all selected",
    )
    redrive.add_argument("--dry-run", action="store_true", help="print, change nothing")
    purge = commands.add_parser("purge", help="delete dead letters (asks first)")
    selection(purge)
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.add_argument("--dry-run", action="store_true", help="print, change nothing")
    return parser


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    project = resolve_project(args.project)
    ops = DeadLetterOps(project, load_catalogue(args.functions))
    try:
        consumers = ops.consumers(args.agent, args.subscription)
        if args.command == "list":
            letters = ops.peek(consumers)
            if letters:
                print(HEADER)
            for letter in letters:
                print(describe(letter))
            print(f"{len(letters)} dead letter(s) in {len(consumers)} subscription(s)")
        elif args.command == "show":
            matches = [d for d in ops.peek(consumers) if d.message_id == args.message_id]
            if not matches:
                print(f"no dead letter with message id {args.message_id}", file=sys.stderr)
                return 1
            letter = matches[0]
            print(describe(letter))
            print(f"source subscription: {letter.source_subscription}")
            print("attributes:", json.dumps(letter.attributes, indent=2, sort_keys=True))
            print("data:", letter.data.decode("utf-8", errors="replace"))
        elif args.command == "redrive":
            ids = set(args.message_ids) if args.message_ids else None
            results = list(ops.redrive(consumers, ids, dry_run=args.dry_run))
            for result in results:
                verb = "would redrive" if result.dry_run else "redrove"
                print(
                    f"{verb} {result.message_id} -> topic {result.topic} "
                    f"for {result.target_subscription} only"
                    + (f" (new id {result.published_id})" if result.published_id else "")
                )
            print(f"{len(results)} message(s) {'selected' if args.dry_run else 'redriven'}")
        elif args.command == "purge":
            count = ops.purge(consumers, dry_run=True)
            if args.dry_run or count == 0:
                print(f"{count} dead letter(s) would be purged")
                return 0
            if not args.yes:
                answer = input(f"purge {count} dead letter(s) for good? type 'purge': ")
                if answer.strip() != "purge":
                    print("nothing purged")
                    return 1
            print(f"purged {ops.purge(consumers)} dead letter(s)")
    finally:
        ops.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
