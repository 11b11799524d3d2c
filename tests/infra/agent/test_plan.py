"""Agent plans: sizes per stack, environment, and exactly the IAM grants each agent needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.agent.plan import PRIMITIVE_ROLES, Grant, plan_agent, plan_fleet
from infra.catalogue import load_catalogue
from infra.settings import SettingsError
from tests.infra.conftest import Editor
from tests.infra.test_settings import settings_for


def test_scheduler_grants_are_exactly_these() -> None:
    plan = plan_agent(load_catalogue(), settings_for("dev"), "scheduler")
    assert set(plan.grants) == {
        Grant(
            "topic",
            "bookings",
            "roles/pubsub.publisher",
            "agent",
            "scheduler-publishes-bookings",
            "declared in publishes",
        ),
        Grant(
            "secret",
            "google-calendar-credentials",
            "roles/secretmanager.secretAccessor",
            "agent",
            "scheduler-reads-google-calendar-credentials",
            "declared in secrets",
        ),
        Grant(
            "project",
            "firestore",
            "roles/datastore.user",
            "agent",
            "scheduler-firestore-user",
            "idempotency and state; Firestore IAM has no resource finer than the project",
        ),
        Grant(
            "service",
            "scheduler",
            "roles/run.invoker",
            "invoker",
            "scheduler-push-invoker",
            "Pub/Sub push (OIDC) identity",
        ),
        Grant(
            "service-account",
            "sb-scheduler-push",
            "roles/iam.serviceAccountTokenCreator",
            "pubsub-service-agent",
            "scheduler-invoker-token-creator",
            "Pub/Sub mints the push OIDC token for this invoker only",
        ),
        Grant(
            "topic",
            "scheduler-on-bookings-dead-letter",
            "roles/pubsub.publisher",
            "pubsub-service-agent",
            "scheduler-on-bookings-dead-letter-pubsub-publisher",
            "Pub/Sub forwards undeliverable messages",
        ),
        Grant(
            "subscription",
            "scheduler-on-bookings",
            "roles/pubsub.subscriber",
            "pubsub-service-agent",
            "scheduler-on-bookings-pubsub-subscriber",
            "Pub/Sub acks forwarded messages (and counts delivery attempts)",
        ),
        Grant(
            "topic",
            "scheduler-on-bookings-dead-letter",
            "roles/pubsub.publisher",
            "agent",
            "scheduler-on-bookings-dead-letter-agent-publisher",
            "the runtime records permanent failures in its dead-letter topic",
        ),
    }


def test_no_agent_grants_all_users_and_only_the_public_one_skips_the_invoker_check() -> None:
    plans = plan_fleet(load_catalogue(), settings_for("prod"))
    for name, plan in plans.items():
        assert {g.member for g in plan.grants} <= {"agent", "invoker", "pubsub-service-agent"}
        assert plan.invoker_iam_disabled == (name == "gateway")
        assert not {g.role for g in plan.grants} & PRIMITIVE_ROLES
        token_creators = [g for g in plan.grants if g.role.endswith("serviceAccountTokenCreator")]
        assert all(g.kind == "service-account" for g in token_creators)


def test_removing_a_published_topic_removes_exactly_that_grant(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    settings = settings_for("dev")
    before = set(plan_agent(load_catalogue(functions_copy), settings, "billing").grants)
    edit_yaml("billing/agent.yaml", lambda doc: doc["publishes"].remove("notifications"))
    after = set(plan_agent(load_catalogue(functions_copy), settings, "billing").grants)
    assert before - after == {
        Grant(
            "topic",
            "notifications",
            "roles/pubsub.publisher",
            "agent",
            "billing-publishes-notifications",
            "declared in publishes",
        )
    }
    assert after - before == set()


def test_instances_follow_the_stack() -> None:
    catalogue = load_catalogue()
    dev = plan_fleet(catalogue, settings_for("dev"))
    prod = plan_fleet(catalogue, settings_for("prod"))
    assert all(p.min_instances == 0 for p in dev.values())
    assert all(p.max_instances <= 3 for p in dev.values())
    assert prod["gateway"].min_instances == 1
    assert prod["gateway"].max_instances == 20
    assert prod["gateway"].memory == "1Gi"
    assert dev["gateway"].memory == "512Mi"  # the manifest's own, no override in dev
    assert dev["ledger"].memory == "256Mi"


def test_override_beyond_the_cap_names_the_key() -> None:
    settings = settings_for("dev", **{"switchboard:agents": {"ledger": {"minInstances": 5}}})
    with pytest.raises(SettingsError, match=r"switchboard:agents\.ledger\.minInstances: 5 exceeds"):
        plan_agent(load_catalogue(), settings, "ledger")


def test_environment_carries_topics_dead_letters_and_secret_names_not_values() -> None:
    plan = plan_agent(load_catalogue(), settings_for("staging"), "billing")
    assert plan.env["SWITCHBOARD_TOPIC_PAYMENTS"] == "payments"
    assert plan.env["SWITCHBOARD_TOPIC_NOTIFICATIONS"] == "notifications"
    assert "SWITCHBOARD_TOPIC_BOOKINGS" not in plan.env
    assert json.loads(plan.env["SWITCHBOARD_DEAD_LETTERS"]) == {
        "billing-on-bookings": "billing-on-bookings-dead-letter",
        "billing-on-payments": "billing-on-payments-dead-letter",
    }
    assert plan.secret_env == {"STRIPE_API_KEY": "stripe-api-key"}
    assert "STRIPE_API_KEY" not in plan.env


def test_firestore_access_follows_the_manifest() -> None:
    """Least privilege: only agents that declare ``firestore: true`` get datastore.user."""
    catalogue = load_catalogue()
    plans = plan_fleet(catalogue, settings_for("prod"))
    for name, plan in plans.items():
        datastore = [g for g in plan.grants if g.role == "roles/datastore.user"]
        wanted = catalogue.agent(name).firestore
        assert len(datastore) == (1 if wanted else 0), name
        assert ("SWITCHBOARD_FIRESTORE_DATABASE" in plan.env) is wanted, name
    assert not catalogue.agent("gateway").firestore
    assert all(
        plan.consumers == () for name, plan in plans.items() if not catalogue.agent(name).firestore
    )


def test_a_public_agent_gets_its_url_from_the_stack_and_needs_one() -> None:
    catalogue = load_catalogue()
    public = [name for name, agent in catalogue.agents.items() if agent.is_public]
    for name in catalogue.agents:
        env = plan_agent(catalogue, settings_for("dev"), name).env
        assert ("SWITCHBOARD_PUBLIC_URL" in env) == (name in public)
    bare = settings_for("dev", **{"switchboard:agents": {}})
    for name in public:
        with pytest.raises(SettingsError, match=rf"switchboard:agents\.{name}\.publicUrl"):
            plan_agent(catalogue, bare, name)


@pytest.mark.parametrize(
    "url", ["http://gateway.example.com", "https://gateway.example.com/", "https://x", "ftp://a.b"]
)
def test_a_public_url_must_be_https_without_a_trailing_slash(url: str) -> None:
    with pytest.raises(SettingsError, match="publicUrl"):
        settings_for("dev", **{"switchboard:agents": {"gateway": {"publicUrl": url}}})
