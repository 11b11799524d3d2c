"""What the platform prints once it is ready: where everything listens."""

from __future__ import annotations

from pathlib import Path

from infra.catalogue import Catalogue
from localdev.trace import HEADER


def banner(
    catalogue: Catalogue,
    state: dict,
    *,
    state_file: Path,
    tick_every: float | None,
    ready_seconds: float,
    timings: dict[str, float] | None = None,
) -> str:
    lines = [f"Switchboard local platform (project {state['project']})"]
    pubsub, firestore, sandbox = state["pubsub"], state["firestore"], state["sandbox"]
    lines.append(
        f"  {'Pub/Sub emulator':<20} {pubsub['url']:<28} PUBSUB_EMULATOR_HOST="
        f"{pubsub['emulator_host']}"
    )
    lines.append(
        f"  {'Firestore emulator':<20} {firestore['url']:<28} FIRESTORE_EMULATOR_HOST="
        f"{firestore['emulator_host']}"
    )
    if sandbox:
        lines.append(f"  {'sandbox':<20} {sandbox['url']:<28} GET /_sandbox/requests")
    else:
        lines.append(f"  {'sandbox':<20} (not started)")
    console = state.get("console")
    if console:
        lines.append(f"  {'console':<20} {console['url']:<28} open it in a browser")
    lines.append("  agents:")
    for name, agent in state["agents"].items():
        manifest = catalogue.agent(name)
        feeds = ", ".join(spec.topic for spec in manifest.subscriptions) or "HTTP only"
        lines.append(f"    {name:<16} {agent['url']:<28} pid {agent['pid']:<8} <- {feeds}")
    for manifest in catalogue.scheduled_agents():
        assert manifest.schedule is not None
        when = (
            f"every {tick_every:g}s (--tick-every)"
            if tick_every
            else f"cron '{manifest.schedule.cron}' ({manifest.schedule.timezone})"
        )
        lines.append(f"  ticks: {manifest.name} {when} -> topic {manifest.schedule.topic}")
    lines.append(f"  state: {state_file}   logs: {state['logs']}")
    phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in (timings or {}).items())
    lines.append(
        f"ready in {ready_seconds:.1f}s"
        + (f" ({phases} after start)" if phases else "")
        + "; Ctrl-C stops everything"
    )
    lines.append("")
    lines.append(HEADER)
    return "\n".join(lines)
