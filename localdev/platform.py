"""The local platform: emulators, sandbox, agents, topology, delivery loops and ticks.

:class:`Platform` starts everything in order, records it in ``.local/platform.json`` and
stops everything it started (by PID, process groups), whatever went wrong on the way.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard_contract.environment import GOOGLE_CLOUD_PROJECT

from infra.catalogue import Catalogue, naming
from localdev import emulators
from localdev.agent_env import LocalEndpoints, agent_environment
from localdev.agent_settings import local_agent_settings
from localdev.delivery import (
    MAX_IN_FLIGHT,
    DeliveryLoop,
    Route,
    duplicate_rate,
    in_flight_limit,
)
from localdev.emulators import ManagedProcess
from localdev.fake_secrets import fake_secrets
from localdev.interrupts import spawning
from localdev.ports import DEFAULT_BASE_PORT, PortPlan, check_free, plan_ports
from localdev.processes import (
    STOP_GRACE_SECONDS,
    sandbox_available,
    start_agent,
    start_sandbox,
    stop_all,
    wait_listening,
)
from localdev.state import STATE_FILE, remove_state, write_state
from localdev.supervisor import Supervisor
from localdev.ticks import Ticker, schedules
from localdev.trace import TraceWriter

DEFAULT_PROJECT = "switchboard-local"
REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_AGENT_THREADS = 32
DRAIN_SECONDS = 5.0  # at stop, how long the deliveries in flight may take to finish


@dataclass
class PlatformOptions:
    functions_root: Path
    state_dir: Path
    repo_root: Path = REPO_ROOT
    project: str = DEFAULT_PROJECT
    host: str = "127.0.0.1"
    base_port: int = DEFAULT_BASE_PORT
    port_overrides: Mapping[str, int] = field(default_factory=dict)
    agent_ports: Mapping[str, int] = field(default_factory=dict)
    tick_every: float | None = None
    log_level: str = "INFO"
    max_in_flight: int = MAX_IN_FLIGHT
    sandbox: bool = True
    console: bool = True

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


class Platform:
    """Start with :meth:`start`, stop with :meth:`stop` (idempotent, always safe)."""

    def __init__(self, catalogue: Catalogue, options: PlatformOptions, trace: TraceWriter) -> None:
        self.catalogue = catalogue
        self.options = options
        self.trace = trace
        self.ports: PortPlan | None = None
        self.pubsub: ManagedProcess | None = None
        self.firestore: ManagedProcess | None = None
        self.sandbox: ManagedProcess | None = None
        self.agents: dict[str, ManagedProcess] = {}
        self.agent_env: dict[str, dict[str, str]] = {}
        self.secrets: dict[str, str] = {}
        self.loops: list[DeliveryLoop] = []
        self.ticker: Ticker | None = None
        self.console: Any = None
        self.started_at = datetime.now(UTC)
        self.ready_seconds: float | None = None
        self.timings: dict[str, float] = {}
        self._began = time.monotonic()
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self._supervisor: Supervisor | None = None
        self.publisher: Any = None
        self.subscriber: Any = None

    # -- start ---------------------------------------------------------------------------

    def start(self) -> None:
        began = self._began = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - began

    def _start(self) -> None:
        wants_sandbox = self.options.sandbox and sandbox_available(self.options.repo_root)
        self._check_ports(wants_sandbox)
        self._start_processes(wants_sandbox)
        self._create_topology()
        self._start_console()  # while the agents are still starting
        self._wait_for_processes()
        self._start_delivery()
        self.write_state()

    def _check_ports(self, wants_sandbox: bool) -> None:
        """Plan every port and refuse to start anything if one is taken."""
        options = self.options
        self.ports = plan_ports(
            self.catalogue.agents, options.base_port, options.port_overrides, options.agent_ports
        )
        skip = {"sandbox"} if not wants_sandbox else set()
        skip |= {"console"} if not options.console else set()
        claims = [(port, what) for port, what in self.ports.claims() if what not in skip]
        check_free(claims, options.host)
        options.log_dir.mkdir(parents=True, exist_ok=True)
        if options.sandbox and not wants_sandbox:
            self.trace.info(
                f"! no sandbox package under {options.repo_root}: third-party calls will not "
                "be served locally (continuing without it)"
            )

    def _start_processes(self, wants_sandbox: bool) -> None:
        """Spawn the emulators, the sandbox and every agent side by side (no waiting).
        A Ctrl-C arriving meanwhile is raised once every child is recorded (no leaks)."""
        with spawning():
            self._spawn_all(wants_sandbox)

    def _spawn_all(self, wants_sandbox: bool) -> None:
        options, ports = self.options, self.ports
        assert ports is not None
        self.pubsub = emulators.start_pubsub(
            ports.pubsub, options.log_dir, options.host, wait=False
        )
        self.firestore = emulators.start_firestore(
            ports.firestore,
            options.log_dir,
            options.host,
            websocket_port=ports.firestore_websocket,
            wait=False,
        )
        sandbox_url = None
        if wants_sandbox:
            sandbox_url = f"http://{options.host}:{ports.sandbox}"
            self.sandbox = start_sandbox(
                options.repo_root, ports.sandbox, self._base_env(), options.log_dir, options.host
            )
        endpoints = LocalEndpoints(
            project=options.project,
            pubsub_address=self.pubsub.address,
            firestore_address=self.firestore.address,
            sandbox_url=sandbox_url,
            log_level=options.log_level,
        )
        self.secrets = fake_secrets(list(self.catalogue.secrets), sandbox_url)
        agent_settings = local_agent_settings(self.catalogue)
        for name, agent in self.catalogue.agents.items():
            in_flight = in_flight_limit(
                agent.concurrency, agent.max_instances, options.max_in_flight
            )
            threads = min(MAX_AGENT_THREADS, max(1, len(agent.subscriptions)) * in_flight)
            self.agent_env[name] = agent_environment(
                self.catalogue,
                agent,
                endpoints,
                self.secrets,
                threads=threads,
                public_url=f"http://{options.host}:{ports.agents[name]}",
                settings_values=agent_settings[name],
            )
            self._spawn_agent(name)

    def _create_topology(self) -> None:
        """Once the emulators answer: every topic and subscription of the catalogue."""
        assert self.pubsub is not None and self.firestore is not None
        emulators.wait_until_ready(self.pubsub)
        emulators.wait_until_ready(self.firestore)
        self._mark("emulators")
        os.environ["PUBSUB_EMULATOR_HOST"] = self.pubsub.address
        os.environ["FIRESTORE_EMULATOR_HOST"] = self.firestore.address
        os.environ[GOOGLE_CLOUD_PROJECT] = self.options.project
        from google.cloud import pubsub_v1

        from localdev.topology import create_topology

        self.publisher = pubsub_v1.PublisherClient()
        self.subscriber = pubsub_v1.SubscriberClient()
        create_topology(self.catalogue, self.options.project, self.publisher, self.subscriber)
        self._mark("topology")

    def _wait_for_processes(self) -> None:
        if self.sandbox is not None:
            wait_listening(self.sandbox)
        for managed in self.agents.values():
            wait_listening(managed)
        self._mark("agents")

    def _start_console(self) -> None:
        """The browser console (localdev/console), in this process, before any delivery so
        its copy of each topic misses nothing."""
        if not self.options.console:
            return
        assert self.ports is not None
        from localdev.console.server import Console

        try:
            console = Console(
                self.catalogue,
                self.state(),
                state_file=self.options.state_file,
                host=self.options.host,
                port=self.ports.console,
                subscriber=self.subscriber,
            )
            console.start()
        except Exception as error:  # an aid, not a part of the fleet: carry on without it
            self.trace.info(f"! the console did not start ({error!r}); continuing without it")
            return
        self.console = console
        self._mark("console")

    def _start_delivery(self) -> None:
        """The delivery loops, the ticks and the agents' supervisor."""
        assert self.publisher is not None and self.subscriber is not None
        duplicates = duplicate_rate()
        if duplicates:
            self.trace.info(
                f"! fault injection: {duplicates:.0%} of deliveries are pushed twice "
                "(SWITCHBOARD_LOCAL_DUPLICATE_RATE)"
            )
        for consumer in self.catalogue.consumers():
            endpoint = self.agents[consumer.agent.name].url + "/"
            route = Route.for_consumer(
                consumer, self.options.project, endpoint, self.options.max_in_flight
            )
            loop = DeliveryLoop(
                route, self.subscriber, self.publisher, self.trace, duplicate_rate=duplicates
            )
            loop.start()
            self.loops.append(loop)
        self.ticker = Ticker(
            schedules(self.catalogue.scheduled_agents(), self.options.tick_every),
            self.options.project,
            self.publisher,
            self.trace,
        )
        self.ticker.start()
        self._supervisor = Supervisor(
            self.agents,
            spawn=self._spawn_agent,
            restarted=self.write_state,
            trace=self.trace,
            stopping=self._stopping,
            lock=self._lock,
        )
        self._supervisor.start()

    def _mark(self, phase: str) -> None:
        """Record when a start-up phase finished (seconds since start), for the banner."""
        self.timings[phase] = time.monotonic() - self._began

    def _base_env(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn_agent(self, name: str) -> ManagedProcess:
        assert self.ports is not None
        agent = self.catalogue.agent(name)
        managed = start_agent(
            name,
            entry_point=agent.entry_point,
            agent_dir=self.catalogue.agent_dir(name),
            port=self.ports.agents[name],
            env=self.agent_env[name],
            log_dir=self.options.log_dir,
            host=self.options.host,
        )
        self.agents[name] = managed
        return managed

    # -- state ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        assert self.ports is not None and self.pubsub is not None and self.firestore is not None

        def process(managed: ManagedProcess) -> dict[str, Any]:
            return {
                "host": managed.host,
                "port": managed.port,
                "pid": managed.pid,
                "url": managed.url,
                "log": str(managed.log_path),
            }

        return {
            "pid": os.getpid(),
            "project": self.options.project,
            "started_at": self.started_at.isoformat(),
            "functions_root": str(self.catalogue.root),
            "logs": str(self.options.log_dir),
            "trace": str(self.options.log_dir / "trace.jsonl"),
            "pubsub": {**process(self.pubsub), "emulator_host": self.pubsub.address},
            "firestore": {
                **process(self.firestore),
                "emulator_host": self.firestore.address,
                "websocket_port": self.ports.firestore_websocket,
            },
            "sandbox": process(self.sandbox) if self.sandbox else None,
            "console": (
                {"host": self.options.host, "port": self.console.port, "url": self.console.url}
                if self.console
                else None
            ),
            "agents": {name: process(managed) for name, managed in self.agents.items()},
            "secrets": {
                name: {"env": naming.secret_env_var(name), "value": value}
                for name, value in self.secrets.items()
            },
            "subscriptions": {
                loop.route.subscription_id: {
                    "agent": loop.route.agent,
                    "dead_letter_topic": loop.route.dead_letter_topic_id,
                    "in_flight": loop.route.in_flight,
                }
                for loop in self.loops
            },
            "topics": list(self.catalogue.topics),
        }

    def write_state(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                write_state(self.options.state_file, self.state())

    # -- stop ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop deliveries, ticks, agents, sandbox and emulators; remove the state file.
        Deliveries in flight get ``DRAIN_SECONDS`` to finish while their agents still run."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        if self.ticker is not None:
            self.ticker.stop()
        if self.console is not None:
            self.console.stop()
        for loop in self.loops:
            loop.request_stop()
        drained_by = time.monotonic() + DRAIN_SECONDS  # one budget for every loop
        for loop in self.loops:
            loop.stop(timeout=max(0.0, drained_by - time.monotonic()))
        processes = [*self.agents.values(), self.sandbox, self.pubsub, self.firestore]
        killed = stop_all([managed for managed in processes if managed is not None])
        if killed:
            self.trace.info(
                f"! still running {STOP_GRACE_SECONDS:g} s after SIGTERM, so killed: "
                + ", ".join(killed)
            )
        remove_state(self.options.state_file)
