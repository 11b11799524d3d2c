"""Which port each component listens on, and a clear error when one is taken.

With a base port B: Pub/Sub emulator B, Firestore emulator B+1 (its websocket B+2),
sandbox B+3, console B+4, agents B+10, B+11, ... in catalogue (alphabetical) order.
Base port 0 means "any free ports" (tests). Per-component overrides win over the base.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from localdev.emulators import free_port, port_in_use

DEFAULT_BASE_PORT = 8700
AGENT_OFFSET = 10


class PortInUseError(RuntimeError):
    """One or more planned ports are already taken (the message names each and its user)."""


@dataclass(frozen=True)
class PortPlan:
    pubsub: int
    firestore: int
    firestore_websocket: int
    sandbox: int
    console: int
    agents: Mapping[str, int] = field(default_factory=dict)

    def claims(self) -> list[tuple[int, str]]:
        """Every (port, what wants it) pair, for the in-use check and the startup banner."""
        pairs = [
            (self.pubsub, "Pub/Sub emulator"),
            (self.firestore, "Firestore emulator"),
            (self.firestore_websocket, "Firestore emulator websocket"),
            (self.sandbox, "sandbox"),
            (self.console, "console"),
        ]
        pairs += [(port, f"agent {name!r}") for name, port in self.agents.items()]
        return pairs


def plan_ports(
    agents: Iterable[str],
    base_port: int = DEFAULT_BASE_PORT,
    overrides: Mapping[str, int] | None = None,
    agent_overrides: Mapping[str, int] | None = None,
) -> PortPlan:
    """The port of every component. ``overrides`` keys: pubsub, firestore, firestore_websocket,
    sandbox, console; ``agent_overrides``: agent name -> port."""
    overrides = dict(overrides or {})
    agent_overrides = dict(agent_overrides or {})
    names = list(agents)
    unknown = sorted(set(agent_overrides) - set(names))
    if unknown:
        raise ValueError(f"port given for unknown agent(s): {', '.join(unknown)}")
    taken: set[int] = set(overrides.values()) | set(agent_overrides.values())

    def pick(offset: int) -> int:
        if base_port:
            return base_port + offset
        while True:
            port = free_port()
            if port not in taken:
                taken.add(port)
                return port

    def component(key: str, offset: int) -> int:
        return overrides[key] if key in overrides else pick(offset)

    plan = PortPlan(
        pubsub=component("pubsub", 0),
        firestore=component("firestore", 1),
        firestore_websocket=component("firestore_websocket", 2),
        sandbox=component("sandbox", 3),
        console=component("console", 4),
        agents={
            name: agent_overrides[name] if name in agent_overrides else pick(AGENT_OFFSET + index)
            for index, name in enumerate(names)
        },
    )
    ports = [port for port, _ in plan.claims()]
    duplicates = sorted({port for port in ports if ports.count(port) > 1})
    if duplicates:
        raise ValueError(f"port(s) planned twice: {', '.join(map(str, duplicates))}")
    return plan


def check_free(claims: Iterable[tuple[int, str]], host: str = "127.0.0.1") -> None:
    """Raise PortInUseError naming every taken port and the component that wanted it."""
    taken = [(port, what) for port, what in claims if port_in_use(port, host)]
    if not taken:
        return
    lines = [
        f"port {port} on {host} is already in use, so the {what} cannot listen there"
        for port, what in taken
    ]
    hint = (
        "stop whatever holds it (`ss -ltnp | grep :PORT`), or choose other ports with "
        "--base-port N (or --pubsub-port, --firestore-port, --sandbox-port, --console-port, "
        "--agent-port NAME=PORT)"
    )
    raise PortInUseError("\n".join([*lines, hint]))
