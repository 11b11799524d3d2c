"""Typed routes: a handler declares ``Context[Model]``, checked against the registry."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from switchboard_runtime import Agent, Context, routes
from switchboard_runtime.events import (
    EVENT_TYPES,
    BookingCancelled,
    BookingConfirmed,
    BookingRequested,
    Schema,
    Tick,
)
from switchboard_runtime.routes import RouteError

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
SHARED = FUNCTIONS / "shared"


@pytest.fixture
def agent(monkeypatch: pytest.MonkeyPatch) -> Agent:
    monkeypatch.setenv("SWITCHBOARD_PRELOAD", "off")
    return Agent("typed")


def test_a_declared_model_is_recorded_for_each_type(agent: Agent) -> None:
    @agent.on("booking.requested", "booking.confirmed")
    def booked(ctx: Context[BookingRequested]) -> str:
        return ctx.data.booking_id

    declaration = agent.declared["booking.confirmed"]
    assert agent.declared["booking.requested"] is declaration
    assert routes.resolve(declaration) is BookingRequested
    agent.check_routes()


def untyped(ctx) -> str:  # type: ignore[no-untyped-def]
    return "processed"


def bare(ctx: Context) -> str:  # type: ignore[type-arg]
    return "processed"


def not_a_context(ctx: BookingCancelled) -> str:
    return "processed"


def no_parameter() -> str:
    return "processed"


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (untyped, "test_routes.untyped must declare its event model"),
        (bare, "test_routes.bare declares its context as Context, not Context[Model]"),
        (not_a_context, "declares its context as BookingCancelled, not Context[Model]"),
        (no_parameter, "test_routes.no_parameter must declare its event model"),
        (lambda ctx: "processed", "<lambda> must declare its event model"),
    ],
)
def test_a_route_without_a_declared_model_is_refused_at_registration(
    agent: Agent, route: Callable[..., Any], expected: str
) -> None:
    with pytest.raises(RouteError, match=re.escape(expected)):
        agent.on("booking.cancelled")(route)
    assert agent.routes == {}


def test_a_model_that_does_not_fit_its_type_is_refused_at_registration(agent: Agent) -> None:
    """Refused when ``@agent.on`` runs (the models are loaded here, so it costs nothing),
    naming the handler, the type, what the type is read as and what was declared."""
    with pytest.raises(RouteError) as refused:

        @agent.on("booking.requested")
        def requested(ctx: Context[BookingConfirmed]) -> str:
            return "processed"

    message = str(refused.value)
    assert "requested" in message and "'booking.requested'" in message
    assert "read as BookingRequested" in message
    assert "declares Context[BookingConfirmed]" in message
    assert agent.routes == {}


def test_a_base_model_fits_every_type_read_as_a_subclass_of_it(agent: Agent) -> None:
    domain = [t for t, spec in EVENT_TYPES.items() if issubclass(spec.model, Schema)]
    assert "booking.confirmed" in domain and "tick" not in domain

    @agent.on(*domain, effects="firestore")
    def record(ctx: Context[Schema]) -> str:
        return "recorded"

    with pytest.raises(RouteError, match=re.escape("'tick', whose data is read as Tick")):

        @agent.on("tick")
        def tick(ctx: Context[Schema]) -> str:
            return "processed"


def test_an_unknown_event_type_is_refused(agent: Agent) -> None:
    unknown = re.escape("'booking.teleported', which is not an event type")
    with pytest.raises(RouteError, match=unknown):

        @agent.on("booking.teleported")
        def teleported(ctx: Context[Tick]) -> str:
            return "processed"


def _agent_modules() -> list[Path]:
    return sorted(p for p in FUNCTIONS.glob("*/main.py") if "Agent(" in p.read_text())


def test_every_agent_declares_the_models_its_types_are_read_as(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_PRELOAD", "off")
    checked = {}
    for main in _agent_modules():
        monkeypatch.syspath_prepend(str(main.parent))
        spec = importlib.util.spec_from_file_location(f"routes_probe_{main.parent.name}", main)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # registration checks each route already
        module.agent.check_routes()
        checked[main.parent.name] = {
            t: routes.resolve(d).__name__ for t, d in module.agent.declared.items()
        }
    assert checked["billing"] == {
        "booking.confirmed": "BookingConfirmed",
        "payment.received": "PaymentReceived",
    }
    assert checked["scheduler"] == {
        "booking.requested": "BookingRequested",
        "booking.cancelled": "BookingCancelled",
    }
    assert checked["notifier"] == {"notification.requested": "NotificationRequested"}
    assert checked["reminders"] == {"tick": "Tick"}
    assert set(checked["ledger"].values()) == {"Schema"}


PROBE = textwrap.dedent(
    """
    from __future__ import annotations

    import json, sys
    from typing import TYPE_CHECKING

    sys.path[:0] = [sys.argv[1]]
    import flask
    from switchboard_runtime import Agent, Context

    if TYPE_CHECKING:
        from switchboard_runtime.events import BookingConfirmed, BookingRequested

    agent = Agent("probe")

    @agent.on("booking.requested")
    def requested(ctx: Context[{model}]) -> str:
        return "processed"

    loaded = "pydantic" in sys.modules or "switchboard_runtime.events" in sys.modules
    app = flask.Flask("probe")
    with app.test_request_context("/", method="POST", json=json.loads(sys.argv[2])):
        body, status, _ = agent.handle(flask.request)
    print(json.dumps({{"loaded_at_import": loaded, "status": status, "body": json.loads(body)}}))
    """
)


def _probe(model: str) -> dict[str, Any]:
    # A schema_version newer than any revision reads: answered 503 right after the check,
    # before anything touches Firestore or Pub/Sub.
    attributes = {"type": "booking.requested", "event_id": "evt-1", "schema_version": "999"}
    envelope = {
        "message": {
            "data": base64.b64encode(b'{"booking_id": "bk-1"}').decode(),
            "attributes": {**attributes, "source": "t", "correlation_id": "c-1"},
            "messageId": "1",
            "publishTime": "2026-11-27T00:00:00Z",
        },
        "subscription": "projects/p/subscriptions/probe-bookings",
    }
    env = {**os.environ, "SWITCHBOARD_PRELOAD": "off", "GOOGLE_CLOUD_PROJECT": "demo-routes"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(model=model), str(SHARED), json.dumps(envelope)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_an_agent_import_loads_no_model_and_a_mismatch_answers_500_before_anything() -> None:
    """In a fresh process (the cold start) the models are imported under TYPE_CHECKING:
    registration reads the annotation alone and loads neither pydantic nor the models.
    The check then runs before the first delivery: a mismatch answers 500 (Pub/Sub
    retries; nothing claimed, nothing dead-lettered) naming the handler and the type."""
    wrong = _probe("BookingConfirmed")
    assert wrong["loaded_at_import"] is False
    assert wrong["status"] == 500 and wrong["body"]["outcome"] == "error"
    assert "__main__.requested is registered for 'booking.requested'" in wrong["body"]["detail"]
    assert "declares Context[BookingConfirmed]" in wrong["body"]["detail"]

    right = _probe("BookingRequested")
    assert right["loaded_at_import"] is False
    # The check passed: the delivery got as far as reading the data's version.
    assert (right["status"], right["body"]["outcome"]) == (503, "retry"), right
    assert "schema_version 999 is newer" in right["body"]["detail"], right
