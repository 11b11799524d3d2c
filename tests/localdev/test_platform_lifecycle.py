"""Starting and stopping ``python -m localdev up``: nothing left behind, clear port errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from localdev.emulators import port_in_use
from localdev.platform import DRAIN_SECONDS
from localdev.processes import STOP_GRACE_SECONDS
from localdev.state import pid_alive
from localdev.trace import ACKED
from tests.conftest import require_emulators
from tests.localdev.harness import PROJECT, REPO, LocalPlatform, pubsub_clients, wait_for

# Drain, then SIGTERM-to-SIGKILL grace, plus room for a loaded machine: well under the
# 60 s a retried ack used to hold the exit.
STOP_BOUND_SECONDS = DRAIN_SECONDS + STOP_GRACE_SECONDS + 20


def assert_nothing_left(platform: LocalPlatform) -> None:
    pids, ports = platform.pids(), platform.ports()
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), 10, "every process to exit")
    assert [port for port in ports if port_in_use(port)] == []
    assert not platform.state_file.exists()


@pytest.mark.emulator
@pytest.mark.e2e
@pytest.mark.timeout(240)
@pytest.mark.parametrize("first_signal", [signal.SIGINT, signal.SIGTERM])
def test_stop_leaves_nothing_behind_and_a_second_start_works(
    tmp_path: Path, first_signal: signal.Signals
) -> None:
    require_emulators()
    platform = LocalPlatform(tmp_path)
    try:
        state = platform.start()
        again = subprocess.run(
            platform.command(), cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        )
        assert again.returncode == 2
        assert "already running" in again.stderr
        status = subprocess.run(
            [sys.executable, "-m", "localdev", "status", "--state-dir", str(platform.state_dir)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        shown = json.loads(status.stdout)
        assert shown["agents"].keys() == {"recorder", "sturdy"}
        assert "secrets" not in shown

        assert platform.stop(first_signal) == 0
        assert_nothing_left(platform)
        output = platform.output.read_text()
        assert "stopped; nothing left running" in output

        same_ports = [
            "--pubsub-port",
            str(state["pubsub"]["port"]),
            "--firestore-port",
            str(state["firestore"]["port"]),
            "--firestore-websocket-port",
            str(state["firestore"]["websocket_port"]),
        ]
        for name, agent in state["agents"].items():
            same_ports += ["--agent-port", f"{name}={agent['port']}"]
        second = platform.start(*same_ports)
        assert second["pubsub"]["port"] == state["pubsub"]["port"]
        assert {n: a["port"] for n, a in second["agents"].items()} == {
            n: a["port"] for n, a in state["agents"].items()
        }
        assert platform.stop(signal.SIGTERM) == 0
        assert_nothing_left(platform)
    finally:
        platform.kill_everything()


@pytest.mark.emulator
@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_delivery_in_flight_at_stop_is_finished_or_abandoned_and_never_holds_the_exit(
    tmp_path: Path,
) -> None:
    """A short handler still running at stop finishes and is acked (the agents outlive the
    drain); a long one is abandoned. Before the drain, the abandoned delivery's ack retried
    against the stopped emulator for the client's 60 s budget and held the exit that long."""
    require_emulators()
    platform = LocalPlatform(tmp_path)
    try:
        state = platform.start()
        with pubsub_clients(state["pubsub"]["emulator_host"]) as (publisher, _):
            topic = publisher.topic_path(PROJECT, "orders")
            for event_id, route, sleep in (("short", "recorder", "1"), ("long", "sturdy", "120")):
                publisher.publish(
                    topic,
                    b"{}",
                    type="order.placed",
                    event_id=event_id,
                    route=route,
                    behaviour="slow",
                    sleep=sleep,
                ).result(timeout=30)
        wait_for(
            lambda: platform.deliveries("short") and platform.deliveries("long"),
            60,
            "both deliveries to start",
        )

        assert platform.stop(signal.SIGTERM, timeout=STOP_BOUND_SECONDS) == 0
        assert_nothing_left(platform)

        assert platform.deliveries("short", phase="done")
        assert ACKED in {event.outcome for event in platform.events("short")}
        assert not platform.deliveries("long", phase="done")
        output = platform.output.read_text()
        assert "on sturdy-on-orders was still running when the platform stopped" in output
        assert "stopped; nothing left running" in output
    finally:
        platform.kill_everything()


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_port_in_use_is_named_with_what_wanted_it(tmp_path: Path) -> None:
    platform = LocalPlatform(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [*platform.command(), "--agent-port", f"sturdy={port}"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert (
        f"port {port} on 127.0.0.1 is already in use, so the agent 'sturdy' cannot listen there"
    ) in result.stderr
    assert "--base-port" in result.stderr
    assert not platform.state_file.exists()


@pytest.mark.slow
def test_the_cli_documents_its_flags() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localdev", "up", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    flags = ("--base-port", "--tick-every", "--pubsub-port", "--agent-port", "--state-dir")
    for flag in (*flags, "--console-port", "--no-console"):
        assert flag in result.stdout


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.emulator
@pytest.mark.timeout(120)
def processes_under(root: Path) -> list[int]:
    """PIDs whose working directory is inside ``root`` (agents run in their folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        if cwd.is_relative_to(root.resolve()):
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_ctrl_c_while_starting_stops_what_was_started(tmp_path: Path) -> None:
    require_emulators()
    platform = LocalPlatform(tmp_path)
    process = subprocess.Popen(
        platform.command(),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = wait_for(
            lambda: (found := children_of(process.pid)) and len(found) >= 2 and found,
            60,
            "the emulators to spawn",
        )
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode in (0, 130), output
        wait_for(lambda: not any(pid_alive(pid) for pid in started), 15, "the children to exit")
        # children spawned after the signal (agents, sandbox) must not survive either
        wait_for(lambda: not processes_under(tmp_path), 15, "no process left in the test tree")
        assert not platform.state_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
