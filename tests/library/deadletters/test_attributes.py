"""The dead-letter attributes: Pub/Sub's names, and what forwarding adds (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard_contract.attributes import (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SOURCE_SUBSCRIPTION,
    DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT,
    DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME,
)

from library.deadletters.attributes import dead_letter_attributes

PUBLISHED = datetime(2026, 11, 27, 0, 2, 9, 342000, tzinfo=UTC)


def test_dead_letter_attributes_keep_the_originals_and_add_the_source() -> None:
    original = {"type": "booking.requested", "event_id": "e1"}
    forwarded = dead_letter_attributes(
        original,
        delivery_count=5,
        subscription_id="scheduler-on-bookings",
        project="switchboard-local",
        publish_time=PUBLISHED,
    )
    assert forwarded == {
        "type": "booking.requested",
        "event_id": "e1",
        DEAD_LETTER_DELIVERY_COUNT: "5",
        DEAD_LETTER_SOURCE_SUBSCRIPTION: "scheduler-on-bookings",
        DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT: "switchboard-local",
        DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME: "2026-11-27T00:02:09.342Z",
    }
    assert original == {"type": "booking.requested", "event_id": "e1"}


def test_dead_letter_attribute_names_are_pubsubs() -> None:
    assert DEAD_LETTER_DELIVERY_COUNT == "CloudPubSubDeadLetterSourceDeliveryCount"
    assert DEAD_LETTER_SOURCE_SUBSCRIPTION == "CloudPubSubDeadLetterSourceSubscription"
    assert DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT == (
        "CloudPubSubDeadLetterSourceSubscriptionProject"
    )
    assert DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME == "CloudPubSubDeadLetterSourceTopicPublishTime"
