"""Post-deploy verification: Pub/Sub against the emulator, compute readiness with fakes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from infra.catalogue import load_catalogue
from tools.verify.__main__ import main, stack_target, verify
from tools.verify.compute import check_compute, readiness


class FakeCompute:
    def __init__(self, broken: str | None = None) -> None:
        self.broken = broken

    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        return {"state": "FAILED" if name == self.broken else "ACTIVE"}

    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        if name == self.broken:
            return None
        return {"terminalCondition": {"state": "CONDITION_SUCCEEDED"}, "reconciling": False}


def test_readiness_rules() -> None:
    assert readiness("function", {"state": "ACTIVE"}) is None
    assert readiness("function", {"state": "DEPLOYING"}) == "state DEPLOYING"
    assert readiness("run", None) == "missing"
    assert readiness("run", {"reconciling": True}) == "still reconciling"
    ok = {"terminalCondition": {"state": "CONDITION_SUCCEEDED"}}
    assert readiness("run", ok) is None


def test_compute_findings_name_the_broken_agent() -> None:
    catalogue = load_catalogue()
    good = check_compute(catalogue, "p", "europe-west1", FakeCompute())
    assert all(f.ok for f in good) and len(good) == len(catalogue.agents)
    bad = [f for f in check_compute(catalogue, "p", "r", FakeCompute("gateway")) if not f.ok]
    assert [(f.resource, f.message) for f in bad] == [("gateway", "missing")]


def test_stack_target_reads_the_stack_file() -> None:
    assert stack_target("dev") == ("switchboard-dev-000000", "europe-west1")


@pytest.fixture
def pubsub_project(emulators: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh project on the emulator with the catalogue's whole topology."""
    from google.cloud import pubsub_v1

    from localdev.topology import create_topology

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulators.pubsub.address)
    project = f"verify-{uuid.uuid4().hex[:8]}"
    create_topology(
        load_catalogue(), project, pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    )
    return project


@pytest.mark.emulator
def test_emulator_topology_verifies_clean(pubsub_project: str) -> None:
    report = verify(pubsub_project, "europe-west1", check_compute_state=False, require_push=False)
    assert report.ok, report.text()
    checks = {f.check for f in report.findings}
    assert {"topic exists", "subscription matches", "dead letters empty"} <= checks


@pytest.mark.emulator
def test_missing_mismatched_and_dead_letters_are_reported(
    pubsub_project: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from google.cloud import pubsub_v1

    subscriber, publisher = pubsub_v1.SubscriberClient(), pubsub_v1.PublisherClient()
    path = f"projects/{pubsub_project}/subscriptions"
    subscriber.delete_subscription(request={"subscription": f"{path}/notifier-on-notifications"})
    # recreate scheduler's subscription with a different filter (as a drifted deploy would)
    scheduler = f"{path}/scheduler-on-bookings"
    subscriber.delete_subscription(request={"subscription": scheduler})
    subscriber.create_subscription(
        request={
            "name": scheduler,
            "topic": f"projects/{pubsub_project}/topics/bookings",
            "filter": 'attributes.type = "booking.requested"',
            "dead_letter_policy": {
                "dead_letter_topic": f"projects/{pubsub_project}/topics/"
                "scheduler-on-bookings-dead-letter",
                "max_delivery_attempts": 5,
            },
        }
    )
    dead_letter_topic = f"projects/{pubsub_project}/topics/billing-on-payments-dead-letter"
    publisher.publish(dead_letter_topic, b"{}", type="payment.received").result(timeout=10)

    args = ["--project", pubsub_project, "--region", "europe-west1"]
    assert main([*args, "--no-compute", "--no-push-check"]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert len(failed) == 3, out
    assert any("notifier-on-notifications: missing" in line for line in failed)
    assert any("scheduler-on-bookings: filter is" in line for line in failed)
    assert any("billing-on-payments-dead-letter: 1 message(s) waiting" in line for line in failed)
    # the peek did not ack: the dead letter is still there on a second run
    again = verify(pubsub_project, "r", check_compute_state=False, require_push=False)
    assert any(f.resource == "billing-on-payments-dead-letter" and not f.ok for f in again.findings)
