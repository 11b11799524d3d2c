"""The catalogue loads, and every invalid catalogue fails naming the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import CatalogueError, load_catalogue
from tests.infra.conftest import Editor

REFERENCE_AGENTS = ["billing", "gateway", "ledger", "notifier", "reminders", "scheduler"]


def test_the_catalogue_loads() -> None:
    """THE test of functions/: an invalid catalogue fails here, once, with every problem
    (tests/conftest.py reports the tests that then cannot run as skipped, pointing here)."""
    try:
        catalogue = load_catalogue()
    except CatalogueError as error:
        pytest.fail(str(error), pytrace=False)
    assert catalogue.agents


def test_the_reference_fleet_is_in_the_catalogue() -> None:
    """About the reference fleet (bookings, payments, SMS), not about every catalogue: more
    agents may be added, these must stay as they are."""
    catalogue = load_catalogue()
    assert set(REFERENCE_AGENTS) <= set(catalogue.agents)
    assert {"bookings", "payments", "notifications", "inbound", "ticks"} <= set(catalogue.topics)
    assert catalogue.agent("gateway").is_public
    assert "reminders" in [a.name for a in catalogue.scheduled_agents()]
    assert {"billing-on-bookings", "ledger-on-bookings", "scheduler-on-bookings"} <= {
        c.subscription_id for c in catalogue.consumers_of("bookings")
    }


def problems_of(root: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(root)
    return [str(p) for p in caught.value.problems]


def only_problem(root: Path) -> str:
    problems = problems_of(root)
    assert len(problems) == 1, problems
    return problems[0]


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """``set_path(doc, "subscriptions.0.retry.minimum_backoff_seconds", 900)``"""
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


@pytest.mark.parametrize(
    ("agent", "path", "value", "field", "message"),
    [
        (
            "scheduler",
            "subscriptions.0.topic",
            "booking",
            "subscriptions[0].topic",
            "unknown topic 'booking'",
        ),
        ("billing", "publishes.0", "paymnts", "publishes[0]", "unknown topic 'paymnts'"),
        (
            "scheduler",
            "secrets.0",
            "calendar-key",
            "secrets[0]",
            "secret 'calendar-key' is not declared",
        ),
        (
            "scheduler",
            "subscriptions.0.max_delivery_attempts",
            4,
            "subscriptions[0].max_delivery_attempts",
            "must be between 5 and 100",
        ),
        (
            "scheduler",
            "subscriptions.0.max_delivery_attempts",
            101,
            "subscriptions[0].max_delivery_attempts",
            "must be between 5 and 100",
        ),
        (
            "scheduler",
            "subscriptions.0.retry.minimum_backoff_seconds",
            -1,
            "subscriptions[0].retry.minimum_backoff_seconds",
            "must be between 0 and 600",
        ),
        (
            "scheduler",
            "subscriptions.0.retry.maximum_backoff_seconds",
            601,
            "subscriptions[0].retry.maximum_backoff_seconds",
            "must be between 0 and 600",
        ),
        (
            "scheduler",
            "subscriptions.0.ack_deadline_seconds",
            9,
            "subscriptions[0].ack_deadline_seconds",
            "must be between 10 and 600",
        ),
        (
            "scheduler",
            "subscriptions.0.ack_deadline_seconds",
            601,
            "subscriptions[0].ack_deadline_seconds",
            "must be between 10 and 600",
        ),
        ("gateway", "public_reason", None, "public_reason", "ingress is public"),
        ("scheduler", "platform", "lambda", "platform", "Input should be 'function' or 'run'"),
        ("scheduler", "memory", "512MB", "memory", "not a memory size"),
        ("scheduler", "roles", ["roles/editor"], "roles", "unknown field"),
        (
            "scheduler",
            "subscriptions.0.filter",
            'attributes.type = "booking.requested" AND',
            "subscriptions[0].filter",
            "filter syntax error",
        ),
        (
            "scheduler",
            "subscriptions.0.filter",
            'attributes.type = "booking.requsted"',
            "subscriptions[0].filter",
            "event type 'booking.requsted' is not carried by topic",
        ),
        (
            "scheduler",
            "subscriptions.0.ack_deadline_seconds",
            30,
            "subscriptions[0].ack_deadline_seconds",
            "shorter than the agent's timeout_seconds",
        ),
        (
            "scheduler",
            "env.STRIPE_SECRET",
            "sk_live_x",
            "env.STRIPE_SECRET",
            "looks like a credential",
        ),
        ("gateway", "cpu", "0.5", "cpu", "concurrency 40 needs at least 1 vCPU"),
        ("reminders", "schedule.topic", "bookings", "schedule.topic", "has no subscription to it"),
        ("reminders", "schedule.cron", "every 5 minutes", "schedule.cron", "not a five-field"),
    ],
)
def test_invalid_manifest_field_is_named(
    edit_yaml: Editor,
    functions_copy: Path,
    agent: str,
    path: str,
    value: Any,
    field: str,
    message: str,
) -> None:
    edit_yaml(f"{agent}/agent.yaml", lambda doc: set_path(doc, path, value))
    problem = only_problem(functions_copy)
    assert problem.startswith(f"functions/{agent}/agent.yaml: {field}: "), problem
    assert message in problem


def test_filter_over_256_bytes_is_rejected(edit_yaml: Editor, functions_copy: Path) -> None:
    long_filter = " OR ".join(f'attributes.type = "booking.requested{i}"' for i in range(6))
    edit_yaml(
        "scheduler/agent.yaml",
        lambda doc: set_path(doc, "subscriptions.0.filter", long_filter),
    )
    problems = [p for p in problems_of(functions_copy) if "256-byte limit" in p]
    assert len(problems) == 1
    assert problems[0].startswith("functions/scheduler/agent.yaml: subscriptions[0].filter: ")


def test_duplicate_subscription_and_duplicate_event_types(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    edit_yaml(
        "ledger/agent.yaml",
        lambda doc: doc["subscriptions"].append(dict(doc["subscriptions"][0])),
    )
    edit_yaml(
        "catalogue.yaml",
        lambda doc: doc["topics"]["inbound"]["event_types"].append("tick"),
    )
    problems = problems_of(functions_copy)
    assert any(
        p.startswith(
            "functions/ledger/agent.yaml: subscriptions: duplicate subscription to topic 'bookings'"
        )
        for p in problems
    ), problems
    assert any(
        p.startswith(
            "functions/catalogue.yaml: topics.ticks.event_types[0]: event type 'tick' is "
            "already carried by topic 'inbound'"
        )
        for p in problems
    ), problems


def test_names_gcp_would_reject(functions_copy: Path, edit_yaml: Editor) -> None:
    (functions_copy / "scheduler").rename(functions_copy / "Scheduler_Agent")
    edit_yaml(
        "catalogue.yaml", lambda doc: doc["topics"].update({"goog-x": doc["topics"]["ticks"]})
    )
    problems = problems_of(functions_copy)
    assert any(
        p.startswith("functions/Scheduler_Agent/agent.yaml: name: agent name") for p in problems
    )
    assert any(
        p.startswith("functions/catalogue.yaml: topics.goog-x: topic names") for p in problems
    )


def test_public_reason_on_internal_agent_and_unreachable_agent(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    def make_unreachable(doc: dict[str, Any]) -> None:
        doc["subscriptions"] = []
        doc["public_reason"] = "because"

    edit_yaml("ledger/agent.yaml", make_unreachable)
    problems = problems_of(functions_copy)
    assert "functions/ledger/agent.yaml: public_reason: only allowed with ingress: public" in (
        " ".join(problems)
    )
    assert any(
        "an internal agent with no subscriptions can never be invoked" in p for p in problems
    )


def test_yaml_syntax_error_names_line(functions_copy: Path) -> None:
    (functions_copy / "notifier" / "agent.yaml").write_text("platform: function\n  bad: [\n")
    problem = only_problem(functions_copy)
    assert problem.startswith("functions/notifier/agent.yaml: line ")
    assert "invalid YAML" in problem


def test_every_problem_is_reported_at_once(edit_yaml: Editor, functions_copy: Path) -> None:
    edit_yaml("scheduler/agent.yaml", lambda doc: set_path(doc, "secrets.0", "nope"))
    edit_yaml("billing/agent.yaml", lambda doc: set_path(doc, "publishes.0", "nowhere"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(functions_copy)
    message = str(caught.value)
    assert "2 problems" in message
    assert "functions/billing/agent.yaml: publishes[0]" in message
    assert "functions/scheduler/agent.yaml: secrets[0]" in message
