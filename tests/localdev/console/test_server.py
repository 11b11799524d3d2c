"""The console's server on the real emulators (no agents): what it answers, what it
refuses, its live stream, its copy of each topic and the dead-letter operations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.catalogue import load_catalogue
from localdev.emulators import Emulators, free_port
from localdev.trace import TraceEvent
from tests.localdev.harness import wait_for

pytestmark = [pytest.mark.emulator]
PROJECT = "console-test"


@pytest.fixture(scope="module")
def console(emulators: Emulators, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in emulators.client_env(PROJECT).items():
            patch.setenv(key, value)
        from google.cloud import pubsub_v1

        from localdev.console.server import Console
        from localdev.topology import create_topology

        catalogue = load_catalogue()
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        create_topology(catalogue, PROJECT, publisher, subscriber)
        root = tmp_path_factory.mktemp("console")
        state = {
            "project": PROJECT,
            "started_at": datetime.now(UTC).isoformat(),
            "trace": str(root / "trace.jsonl"),
            "agents": {},
            "sandbox": None,
        }
        (root / "trace.jsonl").write_text("")
        running = Console(
            catalogue,
            state,
            state_file=root / "platform.json",
            host="127.0.0.1",
            port=free_port(),
            subscriber=subscriber,
        )
        running.start()
        running.publisher = publisher
        try:
            yield running
        finally:
            running.stop()


def get(console: Any, path: str, **headers: str) -> requests.Response:
    return requests.get(console.url + path, headers=headers, timeout=30)


def post(console: Any, path: str, body: Any, **headers: str) -> requests.Response:
    sent = {"Origin": console.url, "Content-Type": "application/json", **headers}
    return requests.post(console.url + path, data=json.dumps(body), headers=sent, timeout=30)


def test_the_page_and_its_policy(console: Any) -> None:
    page = get(console, "/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="/console.js">' in page.text
    assert get(console, "/console.js").headers["Content-Type"].startswith("text/javascript")
    assert get(console, "/../platform.json").status_code == 404
    script = get(console, "/console.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_a_rebound_host_and_foreign_posts_are_refused(console: Any) -> None:
    assert get(console, "/api/overview", Host="evil.example").status_code == 421
    foreign = post(console, "/api/deadletters/purge", {}, Origin="http://evil.example")
    assert foreign.status_code == 403
    form = post(console, "/api/deadletters/purge", {}, **{"Content-Type": "text/plain"})
    assert form.status_code == 415
    unconfirmed = post(console, "/api/deadletters/purge", {"subscription": "ledger-on-inbound"})
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.json()["error"]
    unknown = post(
        console, "/api/deadletters/purge", {"subscription": "nobody", "confirm": "nobody"}
    )
    assert unknown.status_code == 400 and "nobody" in unknown.json()["error"]


def test_bad_parameters_are_refused_with_a_reason(console: Any) -> None:
    assert get(console, "/api/story?id=%3Cscript%3E").status_code == 400
    assert get(console, "/api/story?id=no-such-event").status_code == 404
    assert get(console, "/api/deliveries?outcome=exploded").status_code == 400
    assert get(console, "/api/deliveries?limit=-1").status_code == 400
    assert get(console, "/api/data/documents?collection=..%2Fx").status_code == 400
    assert get(console, "/api/nothing").status_code == 404


def test_the_stream_sends_counts_and_new_rows(console: Any) -> None:
    event = TraceEvent(
        agent="billing",
        subscription="billing-on-bookings",
        event_type="booking.confirmed",
        event_id="ev-stream-1",
        message_id="42",
        outcome="retry",
        attempt=1,
        status=503,
    )
    with Path(console.state["trace"]).open("a") as handle:
        handle.write(json.dumps(event.__dict__) + "\n")
    with requests.get(console.url + "/api/stream", stream=True, timeout=30) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        while line := stream.raw.readline():  # one event at a time, as EventSource reads
            if line.startswith(b"data: "):
                update = json.loads(line[6:])
                if update["rows"]:
                    break
    assert update["rows"][-1]["event_id"] == "ev-stream-1"
    assert update["counts"]["billing-on-bookings"] == {"delivered": 1, "retried": 1}
    shown = get(console, "/api/deliveries?agent=billing&outcome=retry").json()["rows"]
    assert [r["event_id"] for r in shown] == ["ev-stream-1"]


def test_every_published_message_is_copied_with_its_data(console: Any) -> None:
    hostile = b'{"note": "<img src=x onerror=alert(1)>"}'
    attributes = {"type": "booking.requested", "event_id": "ev-tap-1", "correlation_id": "ev-tap-1"}
    console.publisher.publish(f"projects/{PROJECT}/topics/bookings", hostile, **attributes).result(
        30
    )

    def shown() -> dict[str, Any] | None:
        answer = get(console, "/api/message?id=ev-tap-1")
        return answer.json() if answer.status_code == 200 else None

    found = wait_for(shown, 30, "the tap to copy the message")
    assert found["messages"][0]["data"] == {"note": "<img src=x onerror=alert(1)>"}
    assert found["messages"][0]["topic"] == "bookings"


def test_dead_letters_listed_and_redriven_to_their_subscription_only(console: Any) -> None:
    attributes = {
        "type": "booking.requested",
        "event_id": "ev-dead-1",
        "correlation_id": "ev-dead-1",
        "failure_reason": "bad data",
        "failed_subscription": "scheduler-on-bookings",
    }
    console.publisher.publish(
        f"projects/{PROJECT}/topics/scheduler-on-bookings-dead-letter", b"{}", **attributes
    ).result(30)
    listed = wait_for(
        lambda: get(console, "/api/deadletters").json()["total"], 30, "the dead letter to show"
    )
    assert listed == 1
    letters = get(console, "/api/deadletters?subscription=scheduler-on-bookings").json()
    letter = letters["letters"][0]
    assert letter["reason"] == "permanent failure: bad data"
    assert letters["per_subscription"]["scheduler-on-bookings"] == 1
    answer = post(
        console,
        "/api/deadletters/redrive",
        {"subscription": "scheduler-on-bookings", "message_ids": [letter["message_id"]]},
    )
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["redriven"]
    assert result["target_subscription"] == "scheduler-on-bookings"
    assert result["topic"] == "bookings"
    assert get(console, "/api/deadletters").json()["total"] == 0

    def copy() -> list[Any]:
        found = get(console, "/api/message?id=ev-dead-1")
        messages = found.json()["messages"] if found.status_code == 200 else []
        return [m for m in messages if m["attributes"].get("redrive_target")]

    (redriven,) = wait_for(copy, 30, "the redriven copy on the topic")
    assert redriven["attributes"]["redrive_target"] == "scheduler-on-bookings"


def test_firestore_collections_are_shown_read_only(console: Any) -> None:
    from google.cloud import firestore

    firestore.Client(project=PROJECT).collection("bookings").document("bk-console").set(
        {"status": "confirmed", "starts_at": datetime(2030, 1, 1, tzinfo=UTC)}
    )
    assert "bookings" in get(console, "/api/data/collections").json()["collections"]
    documents = get(console, "/api/data/documents?collection=bookings").json()["documents"]
    shown = next(d for d in documents if d["id"] == "bk-console")
    assert shown["fields"] == {"status": "confirmed", "starts_at": "2030-01-01T00:00:00+00:00"}
    assert get(console, "/api/sandbox/calls").json() == {"calls": [], "sandbox": False}
