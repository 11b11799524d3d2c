"""The attributes of a Pub/Sub message, as producers write them and consumers read them."""

from __future__ import annotations

# What every event carries (the runtime's publisher writes them; envelope.py reads them).
TYPE = "type"
EVENT_ID = "event_id"
SOURCE = "source"
CORRELATION_ID = "correlation_id"
CAUSATION_ID = "causation_id"
SCHEMA_VERSION = "schema_version"
EVENT_ATTRIBUTES = (TYPE, EVENT_ID, SOURCE, CORRELATION_ID, CAUSATION_ID, SCHEMA_VERSION)

# A tick: what Cloud Scheduler (and the local platform's scheduler) publishes.
TICK_TYPE = "tick"
TICK_SOURCE = "cloud-scheduler"
TARGET = "target"
"""The agent a tick is for (its subscription's filter selects on it)."""

REDRIVE_TARGET = "redrive_target"
"""Attribute a redriven message carries: the id of the one subscription that should see
it again. Every agent subscription's filter admits messages without it, or with its own
id, so a redrive reaches only the agent that failed."""

# What the runtime adds when it dead-letters a message itself (a permanent failure).
FAILURE_REASON = "failure_reason"
FAILED_AGENT = "failed_agent"
FAILED_SUBSCRIPTION = "failed_subscription"
RUNTIME_FAILURE_ATTRIBUTES = (FAILURE_REASON, FAILED_AGENT, FAILED_SUBSCRIPTION)

# What Pub/Sub adds to a message it forwards to a dead-letter topic (as documented for
# dead-letter topics, and as the emulator's SDK sets them): the original data and
# attributes are kept; these four are added.
DEAD_LETTER_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"
DEAD_LETTER_SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT = "CloudPubSubDeadLetterSourceSubscriptionProject"
DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME = "CloudPubSubDeadLetterSourceTopicPublishTime"
PUBSUB_DEAD_LETTER_ATTRIBUTES = (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SOURCE_SUBSCRIPTION,
    DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT,
    DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME,
)
