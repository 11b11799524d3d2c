"""What an agent is given (environment) and what the emulator is given (subscriptions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from infra.catalogue import load_catalogue
from localdev.agent_env import LocalEndpoints, agent_environment
from localdev.fake_secrets import fake_secret_value, fake_secrets
from localdev.ticks import schedules, tick_message
from localdev.topology import RETRY_LABEL_MAX, RETRY_LABEL_MIN, subscription_request
from localdev.trace import DEAD_LETTERED, RETRY, TraceEvent, format_line

REPO = Path(__file__).resolve().parents[2]
ENDPOINTS = LocalEndpoints(
    "switchboard-local", "127.0.0.1:8700", "127.0.0.1:8701", "http://127.0.0.1:8703", "DEBUG"
)


def test_agent_environment_follows_the_contract() -> None:
    catalogue = load_catalogue(REPO / "functions")
    billing = catalogue.agent("billing")
    secrets = fake_secrets(list(catalogue.secrets))
    env = agent_environment(
        catalogue,
        billing,
        ENDPOINTS,
        secrets,
        threads=8,
        inherited={"PATH": "/bin", "AWS_SECRET": "leak"},
    )
    assert env["GOOGLE_CLOUD_PROJECT"] == "switchboard-local"
    assert env["SWITCHBOARD_AGENT"] == "billing"
    assert env["SWITCHBOARD_ENVIRONMENT"] == "local"
    assert env["SWITCHBOARD_TIMEOUT_SECONDS"] == str(billing.timeout_seconds)
    assert env["SWITCHBOARD_FIRESTORE_DATABASE"] == "(default)"
    assert env["SWITCHBOARD_TOPIC_PAYMENTS"] == "payments"
    assert env["SWITCHBOARD_TOPIC_NOTIFICATIONS"] == "notifications"
    assert "SWITCHBOARD_TOPIC_BOOKINGS" not in env
    assert json.loads(env["SWITCHBOARD_DEAD_LETTERS"]) == {
        "billing-on-bookings": "billing-on-bookings-dead-letter",
        "billing-on-payments": "billing-on-payments-dead-letter",
    }
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["STRIPE_API_KEY"] == secrets["stripe-api-key"]
    assert "TWILIO_AUTH_TOKEN" not in env  # only the secrets it declares
    assert env["BOOKING_CURRENCY"] == "gbp"
    assert env["PUBSUB_EMULATOR_HOST"] == "127.0.0.1:8700"
    assert env["FIRESTORE_EMULATOR_HOST"] == "127.0.0.1:8701"
    for variable in (
        "SANDBOX_STRIPE_API_BASE",
        "SANDBOX_TWILIO_API_BASE",
        "SANDBOX_CALENDAR_API_BASE",
    ):
        assert env[variable] == "http://127.0.0.1:8703"
    assert env["PYTHONPATH"].split(":") == [
        str(REPO / "functions" / "billing"),
        str(REPO / "functions" / "shared"),
    ]
    assert env["PATH"] == "/bin"
    assert "AWS_SECRET" not in env


def test_fake_secrets_look_local() -> None:
    assert fake_secret_value("stripe-webhook-secret").startswith("whsec_local_")
    assert fake_secret_value("stripe-api-key").startswith("sk_test_local_")
    assert json.loads(fake_secret_value("google-calendar-credentials"))["type"] == "local_sandbox"
    assert fake_secret_value("twilio-auth-token").startswith("local_")
    assert fake_secret_value("x-webhook-secret") != fake_secret_value("x-webhook-secret")


def test_subscription_request_stores_filter_dead_letter_and_retry() -> None:
    catalogue = load_catalogue(REPO / "functions")
    consumer = catalogue.consumer("scheduler-on-bookings")
    request = subscription_request("switchboard-local", consumer)
    assert request["name"] == "projects/switchboard-local/subscriptions/scheduler-on-bookings"
    assert request["topic"] == "projects/switchboard-local/topics/bookings"
    assert request["filter"] == consumer.effective_filter
    assert request["ack_deadline_seconds"] == 60
    assert request["dead_letter_policy"] == {
        "dead_letter_topic": "projects/switchboard-local/topics/scheduler-on-bookings-dead-letter",
        "max_delivery_attempts": consumer.spec.max_delivery_attempts,
    }
    assert request["expiration_policy"] == {}
    labels = request["labels"]
    assert isinstance(labels, dict)
    assert (labels[RETRY_LABEL_MIN], labels[RETRY_LABEL_MAX]) == ("10", "600")


def test_tick_message_carries_the_contract_attributes() -> None:
    data, attributes = tick_message("reminders", datetime(2026, 1, 1, 10, 15, tzinfo=UTC))
    assert attributes["type"] == "tick"
    assert attributes["target"] == "reminders"
    assert attributes["correlation_id"] == attributes["event_id"]
    assert attributes["causation_id"] == ""
    assert attributes["source"]
    assert json.loads(data) == {
        "target": "reminders",
        "scheduled_at": "2026-01-01T10:15:00+00:00",
    }


def test_schedules_use_cron_or_the_override() -> None:
    catalogue = load_catalogue(REPO / "functions")
    now = datetime(2026, 1, 1, 10, 7, tzinfo=UTC)
    (cron,) = schedules(catalogue.scheduled_agents(), None)
    assert (cron.agent, cron.topic) == ("reminders", "ticks")
    assert cron.next_time(now) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    (fast,) = schedules(catalogue.scheduled_agents(), 2.5)
    assert (fast.next_time(now) - now).total_seconds() == 2.5


def test_trace_lines_are_readable() -> None:
    retry = TraceEvent(
        agent="billing",
        subscription="billing-on-bookings",
        event_type="booking.confirmed",
        event_id="3f2a91c0d4",
        message_id="7",
        outcome=RETRY,
        attempt=2,
        status=500,
        latency_ms=12.4,
        detail="in 20s",
        at="2026-11-27T00:12:01.234567+00:00",
    )
    line = format_line(retry)
    assert line.startswith("00:12:01.234  billing")
    assert "booking.confirmed" in line and "3f2a91c0 " in line
    assert "retry 2 in 20s (500)" in line and line.endswith("12 ms")
    dead = TraceEvent(
        agent="billing",
        subscription="s",
        event_type="t",
        event_id="e",
        message_id="m",
        outcome=DEAD_LETTERED,
        attempt=5,
        status=500,
    )
    assert "dead-lettered after 5 (500)" in format_line(dead)
