"""The files a scaffolded agent starts with: manifest, handler, requirements, test."""

from __future__ import annotations

import pprint
import re
from typing import Any

MANIFEST = """\
description: Handles {types} from {topic} (scaffolded by make agent; say what it does).
platform: {platform}
entry_point: handle
runtime: python312
timeout_seconds: 60          # must not exceed the subscription's ack deadline
concurrency: 1               # > 1 needs cpu: "1"
min_instances: 0
max_instances: 3
firestore: true              # the runtime's exactly-once claims live in Firestore
subscriptions:
  - topic: {topic}
    filter: '{filter}'
    ack_deadline_seconds: 60
    retry: {{minimum_backoff_seconds: 10, maximum_backoff_seconds: 600}}
    max_delivery_attempts: 5
publishes: []                # topics it may publish to (ctx.publish)
"""

MAIN_HEAD = '''\
"""The {name} agent: handles {types} from ``{topic}``.

Scaffolded by ``make agent``: replace the handler bodies. The runtime's API (``ctx.data``,
``ctx.event``, ``ctx.publish``, ``ctx.retry``, ``ctx.firestore``, errors) is described in
functions/README.md; each handler declares its event's model (``Context[Model]``), whose
fields are in functions/shared/switchboard_runtime/events.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import functions_framework
from switchboard_runtime import Agent, Context

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import {models}

agent = Agent("{name}")
'''

MAIN_ROUTE = '''

@agent.on("{event_type}")
def {function}(ctx: Context[{model}]) -> str:
    """``ctx.data`` is the validated ``{event_type}`` data, a ``{model}``."""
    ctx.log.info("{name}: {event_type} %s", ctx.event.event_id)
    return "processed"
'''

MAIN_TAIL = """

@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
"""

REQUIREMENTS = """\
# {name}'s own dependencies (the shared runtime's are added when it is packaged).
"""

TEST = '''\
"""The {name} agent: each event type it handles, pushed as Pub/Sub would, on the harness."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functions.harness import Harness

pytestmark = pytest.mark.emulator
PROJECT = "demo-{name}-tests"
EXAMPLES: dict[str, dict[str, Any]] = {examples}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(emulators, sandbox_server, PROJECT, "{name}", consumes=("{topic}",))


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_each_event_type_is_processed_once(platform: Harness, event_type: str) -> None:
    envelope = platform.envelope(
        "{topic}", event_type, EXAMPLES[event_type], event_id=f"e-{{event_type}}"
    )
    first = platform.push(envelope)
    assert (first.status_code, first.json["outcome"]) == (200, "processed")
    again = platform.push(envelope)  # at-least-once delivery: the runtime deduplicates
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")
'''


def type_filter(event_types: list[str]) -> str:
    clauses = [f'attributes.type = "{t}"' for t in event_types]
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"


def function_name(event_type: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", event_type.lower()).strip("_")
    return f"on_{name}" if not name or name[0].isdigit() else name


def manifest(topic: str, event_types: list[str], platform: str) -> str:
    return MANIFEST.format(
        types=", ".join(event_types),
        topic=topic,
        platform=platform,
        filter=type_filter(event_types),
    )


def main_module(name: str, topic: str, models: dict[str, str]) -> str:
    """The agent's ``main.py``: a route per event type (``models``: type -> the name of the
    model it is read as, in ``switchboard_runtime.events``)."""
    routes = "".join(
        MAIN_ROUTE.format(name=name, event_type=t, function=function_name(t), model=model)
        for t, model in models.items()
    )
    head = MAIN_HEAD.format(
        name=name,
        topic=topic,
        types=", ".join(models),
        models=", ".join(sorted(set(models.values()))),
    )
    return head + routes + MAIN_TAIL


def test_module(name: str, topic: str, examples: dict[str, dict[str, Any]]) -> str:
    return TEST.format(
        name=name, topic=topic, examples=pprint.pformat(examples, width=88, sort_dicts=False)
    )


def requirements(name: str) -> str:
    return REQUIREMENTS.format(name=name)
