"""The wrapper on the emulators, through a real agent (ledger): a bad copy never undoes a
good one, and ids Firestore would reject or alias are dead-lettered with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc

from tests.functions.harness import Harness

pytestmark = pytest.mark.emulator
PROJECT = "demo-handler-tests"
TOPIC = "bookings"
BOOKING = {
    "booking_id": "bk-handler-0001",
    "customer": {"name": "Ada", "phone": "+447700900001"},
    "service": "Haircut",
    "starts_at": "2030-05-06T14:00:00+00:00",
    "ends_at": "2030-05-06T15:00:00+00:00",
    "amount_minor": 2500,
    "currency": "gbp",
}
MALFORMED = {**BOOKING, "starts_at": "not a time"}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(emulators, sandbox_server, PROJECT, "ledger", consumes=(TOPIC,))


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def push(platform: Harness, data: Any, event_id: str, **attributes: str) -> tuple[int, str]:
    envelope = platform.envelope(
        TOPIC, "booking.requested", data, event_id=event_id, attributes=attributes
    )
    response = platform.push(envelope)
    return response.status_code, response.json["outcome"]


def ledger_ids(platform: Harness) -> list[str]:
    return sorted(doc.id for doc in platform.firestore().collection("ledger").stream())


def test_a_malformed_copy_never_undoes_a_done_event(platform: Harness) -> None:
    assert push(platform, BOOKING, "evt-1") == (200, "recorded")
    assert push(platform, MALFORMED, "evt-1") == (200, "dead_lettered")
    assert platform.claim_doc("evt-1")["state"] == "done"
    # The operator redrives the dead letter (and a valid copy, for good measure).
    redrive = {"redrive_target": platform.subscription(TOPIC)}
    assert push(platform, MALFORMED, "evt-1", **redrive) == (200, "dead_lettered")
    assert push(platform, BOOKING, "evt-1", **redrive) == (200, "duplicate")
    assert platform.claim_doc("evt-1")["state"] == "done"
    assert ledger_ids(platform) == ["evt-1"]
    entry = platform.firestore().collection("ledger").document("evt-1").get().to_dict()
    assert entry["message_id"] == "1" and entry["data"]["service"] == "Haircut"


def test_an_invalid_first_copy_does_not_make_the_valid_one_a_duplicate(
    platform: Harness,
) -> None:
    assert push(platform, MALFORMED, "evt-2") == (200, "dead_lettered")
    assert platform.claim_doc("evt-2") is None
    assert push(platform, BOOKING, "evt-2") == (200, "recorded")
    assert ledger_ids(platform) == ["evt-2"]
    (dead,) = platform.pull(platform.dead_letter_topic(TOPIC))
    assert "starts_at" in dead.attributes["failure_reason"]


def test_slash_and_underscore_ids_never_collide(platform: Harness) -> None:
    assert push(platform, BOOKING, "evt/a") == (200, "dead_lettered")
    assert push(platform, BOOKING, "evt_a") == (200, "recorded")
    assert ledger_ids(platform) == ["evt_a"]
    ledger = platform.firestore().collection("ledger").document("evt")
    assert not ledger.get().exists and list(ledger.collections()) == []
    (dead,) = platform.pull(platform.dead_letter_topic(TOPIC))
    assert dead.attributes["event_id"] == "evt/a"
    assert "event_id" in dead.attributes["failure_reason"]


@pytest.mark.parametrize("event_id", ["__x__", "e" * 1500, "..", "evt a"])
def test_ids_firestore_rejects_are_dead_lettered_with_a_reason(
    platform: Harness, event_id: str
) -> None:
    assert push(platform, BOOKING, event_id) == (200, "dead_lettered")
    (dead,) = platform.pull(platform.dead_letter_topic(TOPIC))
    reason = dead.attributes["failure_reason"]
    assert "event_id" in reason and len(reason) <= 200
    assert ledger_ids(platform) == []
    assert list(platform.firestore().collection("processed_events").stream()) == []


def test_firestore_invalid_argument_from_the_data_is_permanent(
    platform: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class: Firestore refusing input-derived data is dead-lettered, not retried."""
    from google.cloud.firestore_v1.batch import WriteBatch

    original = WriteBatch.commit

    def refusing(self: WriteBatch, *args: Any, **kwargs: Any) -> Any:
        # The ledger's writes are committed with the claim in one batch: refuse that one.
        if any("/documents/ledger/" in write.update.name for write in self._write_pbs):
            raise gexc.InvalidArgument("Document exceeds the maximum size of 1,048,576 bytes")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WriteBatch, "commit", refusing)
    assert push(platform, BOOKING, "evt-big") == (200, "dead_lettered")
    (dead,) = platform.pull(platform.dead_letter_topic(TOPIC))
    assert "maximum size" in dead.attributes["failure_reason"]
    assert platform.claim_doc("evt-big")["state"] == "failed"
    assert ledger_ids(platform) == []


def test_an_unknown_field_is_ignored_and_a_newer_version_retried(platform: Harness) -> None:
    """A newer producer's optional field is read past; its newer schema_version is not yet
    understood: 503 (Pub/Sub retries), nothing claimed, nothing dead-lettered."""
    assert push(platform, {**BOOKING, "loyalty_tier": "gold"}, "evt-tolerant") == (
        200,
        "recorded",
    )
    assert push(platform, BOOKING, "evt-newer", schema_version="2") == (503, "retry")
    assert platform.claim_doc("evt-newer") is None
    assert push(platform, BOOKING, "evt-newer", schema_version="1") == (200, "recorded")
    assert platform.pull(platform.dead_letter_topic(TOPIC)) == []
