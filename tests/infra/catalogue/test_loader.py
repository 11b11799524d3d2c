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


def assert_field_refused(
    edit_yaml: Editor,
    root: Path,
    agent: str,
    path: str,
    value: Any,
    field: str,
    message: str,
) -> None:
    """Set ``path`` of the agent's manifest to ``value``: the one problem names the file
    and ``field`` and says ``message``."""
    edit_yaml(f"{agent}/agent.yaml", lambda doc: set_path(doc, path, value))
    problem = only_problem(root)
    assert problem.startswith(f"functions/{agent}/agent.yaml: {field}: "), problem
    assert message in problem


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
    assert_field_refused(edit_yaml, functions_copy, agent, path, value, field, message)


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
        "catalogue.yaml",
        lambda doc: doc["topics"].update({"goog-x": {"description": "x", "event_types": ["x.y"]}}),
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


def test_an_empty_manifest_is_an_error_not_a_dropped_agent(functions_copy: Path) -> None:
    (functions_copy / "billing" / "agent.yaml").write_text("")
    assert only_problem(functions_copy) == (
        "functions/billing/agent.yaml: the file is empty (no YAML document)"
    )


def test_a_duplicate_key_cannot_make_an_agent_public(functions_copy: Path) -> None:
    path = functions_copy / "ledger" / "agent.yaml"
    path.write_text(path.read_text() + "ingress: internal\ningress: public\n")
    problem = only_problem(functions_copy)
    assert problem.startswith("functions/ledger/agent.yaml: line ")
    assert "duplicate key 'ingress'" in problem


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x: &a [1, 2]\ny: *a\n", "anchors (&name) are not allowed"),
        ("---\nplatform: function\n---\nplatform: run\n", "more than one YAML document"),
        ("description: " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper than"),
        ("max_instances: " + "9" * 5001 + "\n", "integer longer than 12 digits"),
    ],
)
def test_hostile_yaml_is_a_clean_problem(functions_copy: Path, text: str, says: str) -> None:
    (functions_copy / "notifier" / "agent.yaml").write_text(text)
    problem = only_problem(functions_copy)
    assert problem.startswith("functions/notifier/agent.yaml: ") and says in problem


def test_messages_quote_only_a_short_excerpt(edit_yaml: Editor, functions_copy: Path) -> None:
    edit_yaml("scheduler/agent.yaml", lambda doc: set_path(doc, "memory", "9" * 30_000))
    edit_yaml("billing/agent.yaml", lambda doc: doc.update({"x" * 30_000: 1}))
    problems = problems_of(functions_copy)
    assert len(problems) == 2
    assert all(len(p) < 600 for p in problems), [len(p) for p in problems]
    assert any(p.startswith("functions/scheduler/agent.yaml: memory: ") for p in problems)


@pytest.mark.parametrize(
    ("agent", "path", "value", "field", "message"),
    [
        ("billing", "max_instances", True, "max_instances", "valid integer"),
        ("billing", "max_instances", "10", "max_instances", "valid integer"),
        ("billing", "max_instances", 10.0, "max_instances", "valid integer"),
        ("billing", "min_instances", False, "min_instances", "valid integer"),
        ("billing", "timeout_seconds", "60", "timeout_seconds", "valid integer"),
        (
            "billing",
            "subscriptions.0.max_delivery_attempts",
            10.0,
            "subscriptions[0].max_delivery_attempts",
            "valid integer",
        ),
        ("gateway", "cpu", "1e0", "cpu", "not a Cloud Run vCPU count"),
        ("gateway", "cpu", "1.0", "cpu", "not a Cloud Run vCPU count"),
        ("gateway", "cpu", "3", "cpu", "not a Cloud Run vCPU count"),
        ("billing", "cpu", "0.05", "cpu", "not a Cloud Run vCPU count"),
        ("billing", "cpu", "0.50", "cpu", "not a Cloud Run vCPU count"),
        ("billing", "memory", "0128Mi", "memory", "not a memory size"),
        ("billing", "memory", "128MiB", "memory", "not a memory size"),
        ("reminders", "schedule.cron", "99 99 99 99 99", "schedule.cron", "minute 99"),
        ("reminders", "schedule.cron", "*/0 * * * *", "schedule.cron", "step 0"),
        (
            "billing",
            "subscriptions.0.filter",
            'attributes.type = ""',
            "subscriptions[0].filter",
            'compares attributes.type with ""',
        ),
        ("billing", "firestore", "yes", "firestore", "valid boolean"),
        ("billing", "firestore", False, "firestore", "set firestore: true"),
        (
            "billing",
            "env.SANDBOX_STRIPE_API_BASE",
            "http://evil",
            "env.SANDBOX_STRIPE_API_BASE",
            "reserved",
        ),
        ("billing", "env.STRIPE_API_BASE", "http://evil", "env.STRIPE_API_BASE", "not an allowed"),
        (
            "billing",
            "env.FIRESTORE_EMULATOR_HOST",
            "x:1",
            "env.FIRESTORE_EMULATOR_HOST",
            "reserved",
        ),
        ("billing", "env.PYTHONPATH", "/tmp", "env.PYTHONPATH", "reserved"),
        ("billing", "env.LD_PRELOAD", "/tmp/x.so", "env.LD_PRELOAD", "reserved"),
        ("billing", "env.STRIPE_KEY", "sk_live_x", "env.STRIPE_KEY", "looks like a credential"),
        ("billing", "env.BOOKING_CURRENCY", "sk_live_abc", "env.BOOKING_CURRENCY", "credential"),
    ],
)
def test_lax_and_hostile_values_are_refused(
    edit_yaml: Editor,
    functions_copy: Path,
    agent: str,
    path: str,
    value: Any,
    field: str,
    message: str,
) -> None:
    assert_field_refused(edit_yaml, functions_copy, agent, path, value, field, message)


def test_yaml_1_1_booleans_are_not_integers(functions_copy: Path) -> None:
    path = functions_copy / "billing" / "agent.yaml"
    text = path.read_text().replace("max_instances: 10", "max_instances: yes")
    path.write_text(text)
    problem = only_problem(functions_copy)
    assert problem.startswith("functions/billing/agent.yaml: max_instances: ")


def test_schema_and_cross_reference_problems_in_one_pass(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    def break_billing(doc: dict[str, Any]) -> None:
        doc["memory"] = "lots"  # schema
        doc["publishes"] = ["nowhere"]  # cross-reference, same file

    edit_yaml("billing/agent.yaml", break_billing)
    edit_yaml("scheduler/agent.yaml", lambda doc: set_path(doc, "secrets.0", "nope"))
    problems = problems_of(functions_copy)
    fields = sorted(p.split(": ")[1] for p in problems)
    assert fields == ["memory", "publishes[0]", "secrets[0]"], problems


def test_left_out_fields_cause_no_spurious_problems(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    edit_yaml("ledger/agent.yaml", lambda doc: set_path(doc, "subscriptions.0.topic", 7))
    problems = problems_of(functions_copy)
    assert len(problems) == 1 and "subscriptions[0].topic" in problems[0], problems


def test_gateway_declares_no_firestore() -> None:
    catalogue = load_catalogue()
    assert not catalogue.agent("gateway").firestore
    assert all(agent.firestore for agent in catalogue.agents.values() if agent.subscriptions)


def test_an_oversized_manifest_is_refused_unread(functions_copy: Path) -> None:
    (functions_copy / "billing" / "agent.yaml").write_text("description: " + "x" * 200_000)
    problem = only_problem(functions_copy)
    assert problem == (
        "functions/billing/agent.yaml: file of 200013 bytes is over the 65536-byte limit"
    )


def test_a_public_function_is_refused(edit_yaml: Editor, functions_copy: Path) -> None:
    """A 2nd-gen function's resource cannot disable the invoker IAM check, and the other
    way to be public (allUsers) is refused by Domain Restricted Sharing."""

    def make_public(doc: dict[str, Any]) -> None:
        doc["ingress"] = "public"
        doc["public_reason"] = "signatures verified"

    edit_yaml("ledger/agent.yaml", make_public)
    assert any(
        p.startswith("functions/ledger/agent.yaml: platform: a public agent must be platform: run")
        for p in problems_of(functions_copy)
    )
