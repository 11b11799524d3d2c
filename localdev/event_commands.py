"""``python -m localdev publish`` and ``python -m localdev trace``: send one event into
the running platform, then see every delivery it and its follow-ups caused."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from localdev.lineage import UnknownEventError, lineage, resolve_id
from localdev.publish import DEFAULT_SOURCE, PublishError, parse_data, publish_event
from localdev.state import DEFAULT_STATE_DIR, STATE_FILE, NoPlatformError, read_state
from localdev.trace import HEADER, format_line, read_trace

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
FOLLOW_POLL_SECONDS = 0.5


def add_parsers(commands: Any) -> None:
    publish = commands.add_parser(
        "publish", help="validate and publish one event into the running platform"
    )
    publish.add_argument("--topic", required=True, help="a topic of functions/catalogue.yaml")
    publish.add_argument("--type", required=True, dest="event_type", help="its event type")
    publish.add_argument("--data", required=True, help="the event's data: a JSON object")
    publish.add_argument("--event-id", help="default: a new UUID")
    publish.add_argument("--correlation-id", help="default: the event id (an origin event)")
    publish.add_argument("--causation-id", default="", help="the causing event's id, if any")
    publish.add_argument("--source", default=DEFAULT_SOURCE, help=f"default {DEFAULT_SOURCE!r}")
    publish.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)

    trace = commands.add_parser(
        "trace", help="every delivery an event and the events it caused got (from trace.jsonl)"
    )
    trace.add_argument("event_id", help="the event id (or its first 8+ characters)")
    trace.add_argument(
        "--follow", action="store_true", help="keep printing new deliveries until Ctrl-C"
    )
    trace.add_argument(
        "--trace-file", type=Path, help="default: the running platform's trace.jsonl"
    )
    trace.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)


def command_publish(args: argparse.Namespace) -> int:
    try:
        data = parse_data(args.data)
        published = publish_event(
            args.topic,
            args.event_type,
            data,
            event_id=args.event_id,
            correlation_id=args.correlation_id,
            causation_id=args.causation_id,
            source=args.source,
            state_file=args.state_dir / STATE_FILE,
        )
    except PublishError as error:
        print(f"cannot publish {args.event_type} to {args.topic}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except NoPlatformError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(f"published {published.event_type} to topic {published.topic}")
    print(f"  event_id        {published.event_id}")
    print(f"  correlation_id  {published.correlation_id}")
    if published.causation_id:
        print(f"  causation_id    {published.causation_id}")
    print(f"  message_id      {published.message_id}")
    print(f"what it caused:   make trace ID={published.event_id}")
    return EXIT_OK


def _trace_file(args: argparse.Namespace) -> Path:
    if args.trace_file is not None:
        return Path(args.trace_file)
    try:
        return Path(read_state(args.state_dir / STATE_FILE)["trace"])
    except NoPlatformError:
        return args.state_dir / "logs" / "trace.jsonl"  # the last run's, if any


def command_trace(args: argparse.Namespace) -> int:
    path = _trace_file(args)
    if not path.is_file():
        print(f"no trace at {path}: start the platform with `make dev`", file=sys.stderr)
        return EXIT_FAILED
    printed: set[int] = set()
    root: str | None = None
    header = False
    try:
        while True:
            events = read_trace(path)
            if root is None:
                try:
                    root = resolve_id(events, args.event_id)
                except UnknownEventError as error:
                    if not args.follow:
                        print(error, file=sys.stderr)
                        return EXIT_FAILED
            if root is not None:
                family = lineage(events, root)
                if not header:
                    print(f"event {root} and what it caused ({path}):")
                    print(f"gen {HEADER}")
                    header = True
                for index, event in enumerate(events):
                    if index not in printed and event.event_id in family.generations:
                        print(f"{family.generation(event):>3} {format_line(event)}", flush=True)
                        printed.add(index)
            if not args.follow:
                break
            time.sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return EXIT_OK
    if not printed:
        print("no deliveries of it yet", file=sys.stderr)
    return EXIT_OK
