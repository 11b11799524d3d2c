"""Post-deploy verification: Pub/Sub against the emulator, compute readiness with fakes."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.catalogue import load_catalogue
from tools.verify.__main__ import main, stack_target, verify
from tools.verify.compute import ClientComputeReader, check_compute, readiness


class FakeCompute:
    def __init__(self, broken: str | None = None) -> None:
        self.broken = broken

    def function(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        return {"state": "FAILED" if name == self.broken else "ACTIVE"}

    def service(self, project: str, region: str, name: str) -> dict[str, Any] | None:
        if name == self.broken:
            return None
        return {"terminal_condition": {"state": "CONDITION_SUCCEEDED"}, "reconciling": False}


def test_readiness_rules() -> None:
    assert readiness("function", {"state": "ACTIVE"}) is None
    assert readiness("function", {"state": "DEPLOYING"}) == "state DEPLOYING"
    assert readiness("run", None) == "missing"
    assert readiness("run", {"reconciling": True}) == "still reconciling"
    ok = {"terminal_condition": {"state": "CONDITION_SUCCEEDED"}}
    assert readiness("run", ok) is None


def test_compute_findings_name_the_broken_agent() -> None:
    catalogue = load_catalogue()
    good = check_compute(catalogue, "p", "europe-west1", FakeCompute())
    assert all(f.status == "ok" for f in good) and len(good) == len(catalogue.agents)
    bad = [f for f in check_compute(catalogue, "p", "r", FakeCompute("gateway")) if f.failed]
    assert [(f.resource, f.problem) for f in bad] == [("gateway", "missing")]


class FakeComputeApis:
    """Cloud Functions v2 and Cloud Run Admin v2 REST, on 127.0.0.1: ``GET
    /v2/projects/P/locations/R/functions/N`` and ``.../services/N`` answer the scripted
    resource (the APIs' camelCase JSON) or a 404 error; every request is recorded."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.received: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                fake.received.append(("GET", path))
                name = path.removeprefix("/v2/")
                found = fake.resources.get(name)
                code, body = (
                    (200, found)
                    if found is not None
                    else (
                        404,
                        {
                            "error": {
                                "code": 404,
                                "status": "NOT_FOUND",
                                "message": f"{name} not found",
                            }
                        },
                    )
                )
                payload = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def compute_apis() -> Iterator[FakeComputeApis]:
    fake = FakeComputeApis()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(timeout=5)


def test_the_official_clients_read_each_agent_from_its_api(compute_apis: FakeComputeApis) -> None:
    catalogue = load_catalogue()
    project, region = "switchboard-dev-000000", "europe-west1"
    location = f"projects/{project}/locations/{region}"
    functions = [n for n, a in catalogue.agents.items() if a.platform == "function"]
    services = [n for n, a in catalogue.agents.items() if a.platform == "run"]
    assert functions and services
    broken_function, missing_service = functions[0], services[0]
    for name in functions:
        state = "FAILED" if name == broken_function else "ACTIVE"
        compute_apis.resources[f"{location}/functions/{name}"] = {
            "name": f"{location}/functions/{name}",
            "state": state,
        }
    for name in services[1:]:
        compute_apis.resources[f"{location}/services/{name}"] = {
            "name": f"{location}/services/{name}",
            "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
            "reconciling": False,
        }

    reader = ClientComputeReader(endpoint=compute_apis.endpoint)
    findings = check_compute(catalogue, project, region, reader)

    assert sorted(compute_apis.received) == sorted(
        [("GET", f"/v2/{location}/functions/{name}") for name in functions]
        + [("GET", f"/v2/{location}/services/{name}") for name in services]
    )
    failed = {(f.resource, f.problem) for f in findings if f.failed}
    assert failed == {(broken_function, "state FAILED"), (missing_service, "missing")}
    assert len(findings) == len(catalogue.agents)


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
    checks = {f.rule for f in report.findings}
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
    assert any(f.resource == "billing-on-payments-dead-letter" and f.failed for f in again.findings)
