"""Port planning and the in-use message."""

from __future__ import annotations

import socket

import pytest

from localdev.ports import PortInUseError, check_free, plan_ports


def test_base_port_layout() -> None:
    plan = plan_ports(["billing", "gateway"], 9000)
    assert (
        plan.pubsub,
        plan.firestore,
        plan.firestore_websocket,
        plan.sandbox,
        plan.console,
    ) == (9000, 9001, 9002, 9003, 9004)
    assert plan.agents == {"billing": 9010, "gateway": 9011}


def test_overrides_win() -> None:
    plan = plan_ports(["billing"], 9000, {"pubsub": 7000}, {"billing": 7001})
    assert plan.pubsub == 7000
    assert plan.agents == {"billing": 7001}


def test_base_zero_picks_distinct_free_ports() -> None:
    plan = plan_ports(["a1x", "b2y", "c3z"], 0)
    ports = [port for port, _ in plan.claims()]
    assert len(set(ports)) == len(ports)


def test_conflicting_plan_and_unknown_agent_are_rejected() -> None:
    with pytest.raises(ValueError, match="planned twice"):
        plan_ports(["billing"], 9000, {"sandbox": 9010})
    with pytest.raises(ValueError, match="unknown agent"):
        plan_ports(["billing"], 9000, agent_overrides={"nobody": 1234})


def test_port_in_use_names_the_port_and_who_wanted_it() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUseError) as raised:
            check_free([(port, "Pub/Sub emulator"), (port + 0, "agent 'billing'")])
    message = str(raised.value)
    assert f"port {port} on 127.0.0.1 is already in use, so the Pub/Sub emulator" in message
    assert "agent 'billing'" in message
    assert "--base-port" in message
