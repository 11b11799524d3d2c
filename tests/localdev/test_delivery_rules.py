"""The pure delivery rules: envelope, ack codes, backoff."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from localdev.acks import ACK_STATUS_CODES, is_ack
from localdev.backoff import backoff_seconds, schedule
from localdev.delivery import in_flight_limit
from localdev.envelope import push_envelope, rfc3339

PUBLISHED = datetime(2026, 11, 27, 0, 2, 9, 342000, tzinfo=UTC)


def test_envelope_is_the_wrapped_push_format() -> None:
    body = push_envelope(
        data=b'{"a": 1}',
        attributes={"type": "booking.requested", "event_id": "e1"},
        message_id="123",
        publish_time=PUBLISHED,
        project="switchboard-local",
        subscription_id="scheduler-on-bookings",
        delivery_attempt=3,
    )
    assert body == {
        "message": {
            "data": base64.b64encode(b'{"a": 1}').decode(),
            "attributes": {"type": "booking.requested", "event_id": "e1"},
            "messageId": "123",
            "message_id": "123",
            "publishTime": "2026-11-27T00:02:09.342000Z",
            "publish_time": "2026-11-27T00:02:09.342000Z",
        },
        "subscription": "projects/switchboard-local/subscriptions/scheduler-on-bookings",
        "deliveryAttempt": 3,
    }


def test_envelope_copies_attributes_and_handles_empty_data() -> None:
    attributes = {"type": "x"}
    body = push_envelope(
        data=b"",
        attributes=attributes,
        message_id="1",
        publish_time=PUBLISHED,
        project="p",
        subscription_id="s",
        delivery_attempt=1,
    )
    body["message"]["attributes"]["type"] = "changed"
    assert attributes == {"type": "x"}
    assert body["message"]["data"] == ""


def test_rfc3339_converts_to_utc_and_assumes_utc_for_naive() -> None:
    plus_two = datetime(2026, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(plus_two) == "2026-01-01T00:00:00.000000Z"
    assert rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("status", [102, 200, 201, 202, 204])
def test_push_ack_codes_ack(status: int) -> None:
    assert is_ack(status)


@pytest.mark.parametrize("status", [None, 100, 203, 206, 301, 400, 404, 409, 429, 500, 503])
def test_everything_else_is_a_failure(status: int | None) -> None:
    assert not is_ack(status)


def test_ack_codes_are_exactly_pubsubs() -> None:
    assert frozenset({102, 200, 201, 202, 204}) == ACK_STATUS_CODES


def test_backoff_starts_at_minimum_and_doubles_up_to_maximum() -> None:
    assert schedule(10, 600, 10) == [10, 20, 40, 80, 160, 320, 600, 600, 600]
    assert schedule(0, 0, 5) == [0, 0, 0, 0]
    assert backoff_seconds(1, 30, 300) == 30
    assert backoff_seconds(100, 1, 600) == 600


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        backoff_seconds(0, 10, 600)
    with pytest.raises(ValueError):
        backoff_seconds(1, 10, 5)


def test_a_crashing_agent_is_restarted_with_a_growing_delay() -> None:
    from localdev.supervisor import restart_delay

    assert [restart_delay(n) for n in range(1, 9)] == [0, 1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize(
    ("concurrency", "max_instances", "expected"),
    [(1, 10, 8), (1, 1, 1), (1, 4, 4), (40, 20, 8)],
)
def test_in_flight_follows_the_manifest_capped(
    concurrency: int, max_instances: int, expected: int
) -> None:
    assert in_flight_limit(concurrency, max_instances) == expected
