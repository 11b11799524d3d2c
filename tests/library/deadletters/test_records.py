"""Dead-letter records and redrive attributes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from library.deadletters.records import DeadLetter, redrive_attributes


def letter(**attributes: str) -> DeadLetter:
    return DeadLetter(
        dead_letter_subscription="billing-on-bookings-dead-letter",
        message_id="42",
        ack_id="ack",
        data=b"{}",
        attributes=attributes,
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_pubsub_dead_letter_is_described_by_its_attributes() -> None:
    d = letter(
        type="booking.confirmed",
        event_id="e1",
        CloudPubSubDeadLetterSourceDeliveryCount="10",
        CloudPubSubDeadLetterSourceSubscription="billing-on-bookings",
    )
    assert d.source_subscription == "billing-on-bookings"
    assert d.delivery_count == 10
    assert d.reason == "delivery failed 10 times (max_delivery_attempts reached)"
    assert d.age_seconds(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=90)) == 90


def test_runtime_recorded_permanent_failure() -> None:
    d = letter(
        failure_reason="stripe said 400: bad currency",
        failed_subscription="projects/p/subscriptions/billing-on-bookings",
    )
    assert d.reason == "permanent failure: stripe said 400: bad currency"
    assert d.source_subscription == "billing-on-bookings"


def test_redrive_attributes_strip_dead_letter_marks_and_target_one_subscription() -> None:
    original = {
        "type": "booking.confirmed",
        "event_id": "e1",
        "correlation_id": "c1",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        "CloudPubSubDeadLetterSourceSubscription": "billing-on-bookings",
        "failure_reason": "x",
        "failed_agent": "billing",
        "redrive_target": "old",
    }
    assert redrive_attributes(original, "billing-on-bookings") == {
        "type": "booking.confirmed",
        "event_id": "e1",
        "correlation_id": "c1",
        "redrive_target": "billing-on-bookings",
        "redrive_count": "1",
    }
    assert redrive_attributes({"redrive_count": "2"}, "s")["redrive_count"] == "3"
