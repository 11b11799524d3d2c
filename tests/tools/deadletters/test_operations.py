"""Dead-letter operations against the Pub/Sub emulator, with real dead-lettering."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from infra.catalogue import load_catalogue
from infra.catalogue.filter_language import matches
from library.deadletters.operations import DeadLetterOps
from localdev.emulators import Emulators
from tools.deadletters.__main__ import HEADER, main

pytestmark = pytest.mark.emulator
PROJECT = "demo-deadletters"


@pytest.fixture
def ops(emulators: Emulators, monkeypatch: pytest.MonkeyPatch) -> Iterator[DeadLetterOps]:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulators.pubsub.address)
    catalogue = load_catalogue()
    operations = DeadLetterOps(PROJECT, catalogue)
    publisher, subscriber = operations.publisher, operations.subscriber
    topic = publisher.topic_path(PROJECT, "bookings")
    for existing in list(publisher.list_topics(request={"project": f"projects/{PROJECT}"})):
        for sub in publisher.list_topic_subscriptions(request={"topic": existing.name}):
            subscriber.delete_subscription(request={"subscription": sub})
        publisher.delete_topic(request={"topic": existing.name})
    publisher.create_topic(name=topic)
    for consumer in catalogue.consumers_of("bookings"):
        dead_letter = publisher.topic_path(PROJECT, consumer.dead_letter_topic_id)
        publisher.create_topic(name=dead_letter)
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(PROJECT, consumer.dead_letter_subscription_id),
                "topic": dead_letter,
            }
        )
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(PROJECT, consumer.subscription_id),
                "topic": topic,
                "filter": consumer.effective_filter,
                "ack_deadline_seconds": 10,
                "dead_letter_policy": {
                    "dead_letter_topic": dead_letter,
                    "max_delivery_attempts": 5,
                },
                "retry_policy": {
                    "minimum_backoff": {"seconds": 0},
                    "maximum_backoff": {"seconds": 0},
                },
            }
        )
    yield operations
    operations.close()


def dead_letter_by_nacking(ops: DeadLetterOps, subscription: str, attempts: int) -> None:
    """Nack every delivery of ``subscription`` until Pub/Sub dead-letters the message."""
    path = ops.subscriber.subscription_path(PROJECT, subscription)
    for _ in range(attempts):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = ops.subscriber.pull(
                request={"subscription": path, "max_messages": 10}, timeout=5
            )
            if response.received_messages:
                ops.subscriber.modify_ack_deadline(
                    request={
                        "subscription": path,
                        "ack_ids": [r.ack_id for r in response.received_messages],
                        "ack_deadline_seconds": 0,
                    }
                )
                break
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # Pub/Sub forwards asynchronously
        response = ops.subscriber.pull(
            request={"subscription": path, "max_messages": 10}, timeout=5
        )
        if not response.received_messages:
            return
        ops.subscriber.modify_ack_deadline(
            request={
                "subscription": path,
                "ack_ids": [r.ack_id for r in response.received_messages],
                "ack_deadline_seconds": 0,
            }
        )
    raise AssertionError("message was never dead-lettered")


def drain(ops: DeadLetterOps, subscription: str) -> list[tuple[bytes, dict[str, str]]]:
    path = ops.subscriber.subscription_path(PROJECT, subscription)
    seen: list[tuple[bytes, dict[str, str]]] = []
    for _ in range(3):
        response = ops.subscriber.pull(
            request={"subscription": path, "max_messages": 50, "return_immediately": True},
            timeout=5,
        )
        if not response.received_messages:
            break
        ops.subscriber.acknowledge(
            request={
                "subscription": path,
                "ack_ids": [r.ack_id for r in response.received_messages],
            }
        )
        seen += [
            (bytes(r.message.data), dict(r.message.attributes)) for r in response.received_messages
        ]
    return seen


def test_list_redrive_reaches_only_the_failed_subscription(
    ops: DeadLetterOps, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue = ops.catalogue
    topic = ops.publisher.topic_path(PROJECT, "bookings")
    payload = b'{"booking_id": "b-1"}'
    ops.publisher.publish(
        topic, payload, type="booking.confirmed", event_id="e-1", correlation_id="c-1"
    ).result()
    # every other consumer of bookings takes the message normally; billing keeps failing it
    for other in catalogue.consumers_of("bookings"):
        if other.agent.name != "billing":
            drain(ops, other.subscription_id)
    dead_letter_by_nacking(ops, "billing-on-bookings", attempts=5)

    consumers = ops.consumers(agent="billing", subscription="billing-on-bookings")
    first = ops.peek(consumers)
    second = ops.peek(consumers)  # listing consumes nothing
    assert [d.message_id for d in first] == [d.message_id for d in second]
    assert len(first) == 1
    letter = first[0]
    assert letter.data == payload
    assert letter.attributes["event_id"] == "e-1"
    assert letter.source_subscription == "billing-on-bookings"
    assert letter.delivery_count == 5

    assert main(["--project", PROJECT, "list", "--agent", "billing"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == HEADER
    assert listing[1].split()[:2] == ["billing-on-bookings-dead-letter", letter.message_id]

    assert main(["--project", PROJECT, "redrive", "--agent", "billing", "--dry-run"]) == 0
    assert "would redrive" in capsys.readouterr().out
    assert len(ops.peek(consumers)) == 1  # dry run changed nothing

    assert main(["--project", PROJECT, "redrive", "--agent", "billing"]) == 0
    assert "redrove" in capsys.readouterr().out
    assert ops.peek(consumers) == []  # acked only after the copy was published

    # The emulator ignores filters, so evaluate each subscription's deployed filter the
    # way Pub/Sub would: only billing admits the redriven copy.
    admitted = {}
    for consumer in catalogue.consumers_of("bookings"):
        for data, attributes in drain(ops, consumer.subscription_id):
            if data == payload:
                admitted[consumer.subscription_id] = matches(consumer.effective_filter, attributes)
                assert attributes["redrive_target"] == "billing-on-bookings"
                assert attributes["event_id"] == "e-1"
                assert not any(k.startswith("CloudPubSubDeadLetter") for k in attributes)
    assert admitted == {
        c.subscription_id: c.agent.name == "billing" for c in catalogue.consumers_of("bookings")
    }


def test_purge_asks_and_dry_run_keeps(
    ops: DeadLetterOps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dead_letter = ops.publisher.topic_path(PROJECT, "ledger-on-bookings-dead-letter")
    for i in range(3):
        ops.publisher.publish(dead_letter, b"x", failure_reason=f"r{i}").result()
    assert main(["--project", PROJECT, "purge", "--agent", "ledger", "--dry-run"]) == 0
    assert "3 dead letter(s) would be purged" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda _prompt: "no")
    assert main(["--project", PROJECT, "purge", "--agent", "ledger"]) == 1
    assert len(ops.peek(ops.consumers(agent="ledger", subscription="ledger-on-bookings"))) == 3
    assert main(["--project", PROJECT, "purge", "--agent", "ledger", "--yes"]) == 0
    assert ops.peek(ops.consumers(agent="ledger")) == []
