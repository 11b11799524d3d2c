"""End to end: the local platform delivers with production Pub/Sub push semantics.

One platform (test catalogue from :mod:`tests.localdev.harness`) serves every test in this
module; each test uses its own event ids.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from switchboard_contract.attributes import (
    DEAD_LETTER_DELIVERY_COUNT,
    DEAD_LETTER_SOURCE_SUBSCRIPTION,
    DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT,
    DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME,
)

from localdev.trace import ACKED, DEAD_LETTERED, FILTERED_OUT, RETRY
from tests.conftest import require_emulators
from tests.localdev.harness import PROJECT, LocalPlatform, pubsub_clients, wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    require_emulators()
    running = LocalPlatform(tmp_path_factory.mktemp("platform"))
    try:
        running.start("--tick-every", "2")
        yield running
    finally:
        running.kill_everything()


@pytest.fixture(scope="module")
def clients(platform: LocalPlatform) -> Iterator[tuple[Any, Any]]:
    with pubsub_clients(platform.last_state["pubsub"]["emulator_host"]) as pair:
        yield pair


def publish(clients: tuple[Any, Any], data: bytes = b'{"n": 1}', **attributes: str) -> str:
    publisher, _ = clients
    event_id = attributes.setdefault("event_id", uuid.uuid4().hex)
    attributes.setdefault("type", "order.placed")
    publisher.publish(f"projects/{PROJECT}/topics/orders", data, **attributes).result(timeout=30)
    return event_id


def outcomes(platform: LocalPlatform, event_id: str, agent: str) -> list[str]:
    return [e.outcome for e in platform.events(event_id) if e.agent == agent]


def test_delivers_the_push_envelope_with_the_agents_environment(
    platform: LocalPlatform, clients: tuple[Any, Any]
) -> None:
    event_id = publish(clients, b'{"order": 42}', route="recorder", correlation_id="c1")
    (delivery,) = wait_for(lambda: platform.deliveries(event_id), 30, "the delivery")
    envelope = delivery["envelope"]
    assert envelope["subscription"] == f"projects/{PROJECT}/subscriptions/recorder-on-orders"
    assert envelope["deliveryAttempt"] == 1
    message = envelope["message"]
    assert base64.b64decode(message["data"]) == b'{"order": 42}'
    assert message["attributes"] == {
        "type": "order.placed",
        "event_id": event_id,
        "route": "recorder",
        "correlation_id": "c1",
    }
    assert message["messageId"] == message["message_id"]
    assert message["publishTime"] == message["publish_time"]
    assert message["publishTime"].endswith("Z")

    state = platform.state()
    secret = state["secrets"]["demo-webhook-secret"]
    assert secret["env"] == "DEMO_WEBHOOK_SECRET"
    assert secret["value"].startswith("whsec_local_")
    assert delivery["env"] == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "SWITCHBOARD_ENVIRONMENT": "local",
        "DEMO_WEBHOOK_SECRET": secret["value"],
        "SWITCHBOARD_DEAD_LETTERS": json.dumps(
            {
                "recorder-on-orders": "recorder-on-orders-dead-letter",
                "recorder-on-ticks": "recorder-on-ticks-dead-letter",
            },
            sort_keys=True,
        ),
        "PUBSUB_EMULATOR_HOST": state["pubsub"]["emulator_host"],
    }
    wait_for(lambda: ACKED in outcomes(platform, event_id, "recorder"), 10, "the ack trace")
    (acked,) = [e for e in platform.events(event_id) if e.agent == "recorder"]
    assert (acked.status, acked.attempt, acked.event_type) == (204, 1, "order.placed")
    assert acked.latency_ms is not None


def test_the_filter_keeps_non_matching_messages_from_the_agent(
    platform: LocalPlatform, clients: tuple[Any, Any]
) -> None:
    for_sturdy = publish(clients, route="sturdy")
    for_nobody = publish(clients)
    wait_for(lambda: ACKED in outcomes(platform, for_sturdy, "sturdy"), 30, "sturdy's ack")
    wait_for(
        lambda: outcomes(platform, for_nobody, "sturdy") == [FILTERED_OUT],
        30,
        "sturdy filtering out the unrouted message",
    )
    wait_for(
        lambda: outcomes(platform, for_nobody, "recorder") == [FILTERED_OUT],
        30,
        "recorder filtering out the unrouted message",
    )
    assert outcomes(platform, for_sturdy, "recorder") == [FILTERED_OUT]
    assert platform.deliveries(for_nobody) == []
    assert [d["agent"] for d in platform.deliveries(for_sturdy)] == ["sturdy"]


def test_202_acks_and_a_failure_is_retried_after_the_backoff(
    platform: LocalPlatform, clients: tuple[Any, Any]
) -> None:
    accepted = publish(clients, route="recorder", behaviour="accept")
    flaky = publish(clients, route="recorder", behaviour="fail_once")
    wait_for(lambda: ACKED in outcomes(platform, accepted, "recorder"), 30, "the 202 ack")
    wait_for(lambda: ACKED in outcomes(platform, flaky, "recorder"), 30, "the retried ack")
    assert outcomes(platform, flaky, "recorder") == [RETRY, ACKED]
    first, second = platform.deliveries(flaky)
    assert (first["envelope"]["deliveryAttempt"], second["envelope"]["deliveryAttempt"]) == (1, 2)
    retry, acked = [e for e in platform.events(flaky) if e.agent == "recorder"]
    assert (retry.status, acked.status) == (503, 204)
    gap = datetime.fromisoformat(acked.at) - datetime.fromisoformat(retry.at)
    assert gap.total_seconds() >= 0.9  # minimum_backoff_seconds: 1

    time.sleep(2.5)  # longer than the backoff: a 202 must not come back
    assert len(platform.deliveries(accepted)) == 1
    (event,) = [e for e in platform.events(accepted) if e.agent == "recorder"]
    assert (event.outcome, event.status) == (ACKED, 202)


def test_a_poison_message_is_dead_lettered_after_exactly_max_delivery_attempts(
    platform: LocalPlatform, clients: tuple[Any, Any]
) -> None:
    data = b'{"poison": true}'
    poison = publish(clients, data, route="recorder", behaviour="fail", causation_id="cause-1")
    wait_for(lambda: DEAD_LETTERED in outcomes(platform, poison, "recorder"), 60, "the dead-letter")
    assert outcomes(platform, poison, "recorder") == [RETRY] * 4 + [DEAD_LETTERED]
    deliveries = platform.deliveries(poison)
    assert [d["envelope"]["deliveryAttempt"] for d in deliveries] == [1, 2, 3, 4, 5]
    traced = [e for e in platform.events(poison) if e.agent == "recorder"]
    gaps = [
        (datetime.fromisoformat(b.at) - datetime.fromisoformat(a.at)).total_seconds()
        for a, b in itertools.pairwise(traced)
    ]
    assert all(gap >= expected - 0.1 for gap, expected in zip(gaps, [1, 2, 2, 2], strict=True))

    _, subscriber = clients
    dead_letters = f"projects/{PROJECT}/subscriptions/recorder-on-orders-dead-letter"
    response = subscriber.pull(
        request={"subscription": dead_letters, "max_messages": 10}, timeout=10
    )
    (received,) = [
        m for m in response.received_messages if m.message.attributes.get("event_id") == poison
    ]
    subscriber.acknowledge(request={"subscription": dead_letters, "ack_ids": [received.ack_id]})
    attributes = dict(received.message.attributes)
    assert received.message.data == data
    assert attributes[DEAD_LETTER_DELIVERY_COUNT] == "5"
    assert attributes[DEAD_LETTER_SOURCE_SUBSCRIPTION] == "recorder-on-orders"
    assert attributes[DEAD_LETTER_SOURCE_SUBSCRIPTION_PROJECT] == PROJECT
    assert attributes[DEAD_LETTER_SOURCE_TOPIC_PUBLISH_TIME].endswith("Z")
    for key, value in {
        "type": "order.placed",
        "event_id": poison,
        "route": "recorder",
        "behaviour": "fail",
        "causation_id": "cause-1",
    }.items():
        assert attributes[key] == value
    time.sleep(2.5)
    assert len(platform.deliveries(poison)) == 5


def test_scheduled_ticks_reach_the_agent(platform: LocalPlatform) -> None:
    def tick_delivered() -> list[dict[str, Any]]:
        return [
            d
            for d in platform.deliveries()
            if d["envelope"]["message"]["attributes"].get("type") == "tick"
        ]

    (tick, *_) = wait_for(tick_delivered, 30, "a tick delivery")
    attributes = tick["envelope"]["message"]["attributes"]
    assert attributes["target"] == "recorder"
    assert attributes["source"] == "cloud-scheduler"
    assert tick["envelope"]["subscription"].endswith("/recorder-on-ticks")
    assert json.loads(base64.b64decode(tick["envelope"]["message"]["data"]))["target"] == "recorder"


def test_killing_an_agent_mid_flight_loses_nothing(
    platform: LocalPlatform, clients: tuple[Any, Any]
) -> None:
    old_pid = platform.state()["agents"]["sturdy"]["pid"]
    ids = [publish(clients, route="sturdy", behaviour="slow", sleep="2") for _ in range(3)]
    wait_for(lambda: all(platform.deliveries(i) for i in ids), 30, "the deliveries to start")
    os.killpg(old_pid, signal.SIGKILL)  # the whole instance: functions-framework and workers

    def all_acked() -> bool:
        return all(ACKED in outcomes(platform, i, "sturdy") for i in ids)

    wait_for(all_acked, 90, "every message to be acked after the restart")
    for event_id in ids:
        done = platform.deliveries(event_id, phase="done")
        assert any(d["pid"] != old_pid for d in done), "completed by the restarted agent"
        assert DEAD_LETTERED not in outcomes(platform, event_id, "sturdy")
        assert RETRY in outcomes(platform, event_id, "sturdy")
    new_pid = wait_for(
        lambda: (
            platform.state()["agents"]["sturdy"]["pid"] != old_pid
            and platform.state()["agents"]["sturdy"]["pid"]
        ),
        10,
        "the new pid",
    )
    assert new_pid != old_pid
    assert Path(f"/proc/{old_pid}").exists() is False
