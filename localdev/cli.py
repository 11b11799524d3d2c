"""``python -m localdev``: the local platform's command line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from switchboard_contract.environment import LOG_LEVEL

from infra.catalogue import FUNCTIONS_DIR, CatalogueError, load_catalogue
from localdev.agent_settings import LocalSettingsError, local_agent_settings
from localdev.banner import banner
from localdev.emulators import EmulatorError
from localdev.event_commands import add_parsers as add_event_parsers
from localdev.event_commands import command_publish, command_trace
from localdev.interrupts import interrupt
from localdev.platform import Platform, PlatformOptions
from localdev.ports import DEFAULT_BASE_PORT, PortInUseError
from localdev.stale import reap_stale
from localdev.state import DEFAULT_STATE_DIR, STATE_FILE, NoPlatformError, read_state, remove_state
from localdev.trace import TraceWriter

EXIT_CONFIG = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def _agent_port(text: str) -> tuple[str, int]:
    name, separator, port = text.partition("=")
    if not separator or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, got {text!r}")
    return name, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the whole local platform (make dev)")
    up.add_argument(
        "--functions-root",
        type=Path,
        default=FUNCTIONS_DIR,
        help="the catalogue folder (default: functions/)",
    )
    up.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where platform.json and logs/ go (default: .local/)",
    )
    up.add_argument(
        "--project", default=os.environ.get("SWITCHBOARD_LOCAL_PROJECT", "switchboard-local")
    )
    up.add_argument(
        "--base-port",
        type=int,
        default=int(os.environ.get("SWITCHBOARD_LOCAL_BASE_PORT", DEFAULT_BASE_PORT)),
        help="Pub/Sub B, Firestore B+1 (websocket B+2), sandbox B+3, console B+4, agents B+10...; "
        "0 = any free ports (env SWITCHBOARD_LOCAL_BASE_PORT)",
    )
    up.add_argument("--pubsub-port", type=int)
    up.add_argument("--firestore-port", type=int)
    up.add_argument("--firestore-websocket-port", type=int)
    up.add_argument("--sandbox-port", type=int)
    up.add_argument("--console-port", type=int, help="the browser console's port (default B+4)")
    up.add_argument(
        "--agent-port",
        type=_agent_port,
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="one agent's port (repeatable)",
    )
    up.add_argument(
        "--tick-every",
        type=float,
        metavar="SECONDS",
        help="publish scheduled agents' ticks every SECONDS instead of on their cron",
    )
    up.add_argument("--log-level", default=os.environ.get(LOG_LEVEL, "INFO"))
    up.add_argument(
        "--max-in-flight",
        type=int,
        default=8,
        help="cap on concurrent deliveries per subscription (default 8)",
    )
    up.add_argument("--no-sandbox", action="store_true", help="do not start the sandbox")
    up.add_argument("--no-console", action="store_true", help="do not serve the browser console")

    scenario = commands.add_parser(
        "scenario", help="publish a named scenario into the running platform and report"
    )
    scenario.add_argument("name", choices=["booking", "conflict", "poison", "all"])
    scenario.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    scenario.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each step (default 60)"
    )

    add_event_parsers(commands)

    status = commands.add_parser("status", help="print the running platform's state")
    status.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    return parser


def _port_overrides(args: argparse.Namespace) -> dict[str, int]:
    keys = {
        "pubsub": args.pubsub_port,
        "firestore": args.firestore_port,
        "firestore_websocket": args.firestore_websocket_port,
        "sandbox": args.sandbox_port,
        "console": args.console_port,
    }
    return {key: value for key, value in keys.items() if value is not None}


def _handle_signals(handler: Callable[[int, object], None]) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def _stop_when_orphaned(poll_seconds: float = 1.0) -> None:
    """SIGTERM ourselves if our parent dies. `timeout make dev` or a supervisor that
    signals `make` only would otherwise leave the platform running with no owner."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        print("parent process exited; stopping the local platform", file=sys.stderr)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def command_up(args: argparse.Namespace) -> int:

    state_file = args.state_dir / STATE_FILE
    try:
        running = read_state(state_file)
    except NoPlatformError:
        # A stale file from a platform that died: stop what it left behind, start afresh.
        if reaped := reap_stale(state_file):
            print(f"stopped leftovers of a platform that died: pids {reaped}", file=sys.stderr)
        remove_state(state_file)
    else:
        print(
            f"a local platform is already running (pid {running['pid']}, {state_file}); "
            "stop it with Ctrl-C in its terminal or `kill "
            f"{running['pid']}`",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        catalogue = load_catalogue(args.functions_root)
        local_agent_settings(catalogue)  # a missing local value stops us before anything runs
    except (CatalogueError, LocalSettingsError) as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    def interrupt_start(signum: int, _frame: object) -> None:
        # Once: a second signal must not interrupt the clean-up this one starts.
        _handle_signals(request_stop)
        stop.set()
        interrupt()  # raises now, or once the children being spawned are recorded

    _handle_signals(interrupt_start)
    _stop_when_orphaned()

    options = PlatformOptions(
        functions_root=args.functions_root,
        state_dir=args.state_dir,
        project=args.project,
        base_port=args.base_port,
        port_overrides=_port_overrides(args),
        agent_ports=dict(args.agent_port),
        tick_every=args.tick_every,
        log_level=args.log_level,
        max_in_flight=args.max_in_flight,
        sandbox=not args.no_sandbox,
        console=not args.no_console,
    )
    trace = TraceWriter(options.log_dir / "trace.jsonl")
    platform = Platform(catalogue, options, trace)
    try:
        return _run(platform, trace, stop, request_stop, args.tick_every)
    finally:
        platform.stop()  # idempotent: whatever happened, nothing stays running
        trace.close()


def _run(
    platform: Platform,
    trace: TraceWriter,
    stop: threading.Event,
    request_stop: Callable[[int, object], None],
    tick_every: float | None,
) -> int:
    try:
        platform.start()
    except (PortInUseError, ValueError) as error:
        print(f"cannot start the local platform:\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except EmulatorError as error:
        print(f"cannot start the local platform:\n{error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted while starting; everything started so far is stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        _handle_signals(request_stop)
        assert platform.ready_seconds is not None
        trace.info(
            banner(
                platform.catalogue,
                platform.state(),
                state_file=platform.options.state_file,
                tick_every=tick_every,
                ready_seconds=platform.ready_seconds,
                timings=platform.timings,
            )
        )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass  # a signal in the instant between start and the handler switch
    trace.info("stopping: deliveries, ticks, agents, sandbox, emulators ...")
    platform.stop()
    trace.info("stopped; nothing left running")
    return 0


def command_status(args: argparse.Namespace) -> int:
    import json

    try:
        state = read_state(args.state_dir / STATE_FILE)
    except NoPlatformError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps({k: v for k, v in state.items() if k != "secrets"}, indent=2))
    return 0


def command_scenario(args: argparse.Namespace) -> int:
    from localdev.scenario_client import PlatformClient
    from localdev.scenarios import SCENARIOS, run

    try:
        client = PlatformClient(args.state_dir / STATE_FILE)
    except NoPlatformError as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    names = list(SCENARIOS) if args.name == "all" else [args.name]
    reports = [run(name, client, args.timeout) for name in names]
    return 0 if all(report.ok for report in reports) else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(build_parser().parse_args(argv))
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "up":
        return command_up(args)
    if args.command == "scenario":
        return command_scenario(args)
    if args.command == "status":
        return command_status(args)
    if args.command == "publish":
        return command_publish(args)
    if args.command == "trace":
        return command_trace(args)
    return EXIT_CONFIG
