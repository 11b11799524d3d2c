"""The whole fleet in one process: a booking from the API to the SMS, paid, reminded.

Messages are carried by hand from each topic's tap to the agents that subscribe to it,
so the event schemas agents publish are checked against the ones their consumers read.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functions.harness import (
    SECRETS,
    Harness,
    Message,
    agent_app,
    api_headers,
    stripe_signature,
)

pytestmark = pytest.mark.emulator
PROJECT = "demo-flow-tests"
SUBSCRIBERS = {
    "bookings": ("scheduler", "billing", "ledger"),
    "payments": ("billing", "ledger"),
    "notifications": ("notifier", "ledger"),
    "inbound": ("ledger",),
    "ticks": ("reminders",),
}
ROUTES = {  # what each agent's deployed filter lets through
    "scheduler": {"booking.requested", "booking.cancelled"},
    "billing": {"booking.confirmed", "payment.received"},
    "notifier": {"notification.requested"},
    "reminders": {"tick"},
}


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators,
        sandbox_server,
        PROJECT,
        "fleet",
        consumes=tuple(SUBSCRIBERS),
        publishes=("bookings", "payments", "notifications", "inbound"),
        extra_env={"REMINDER_WINDOW_MINUTES": "1440", "BOOKING_CURRENCY": "gbp"},
    )


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    harness.apply_env(monkeypatch)
    dead_letters = {
        f"{agent}-{topic}": harness.dead_letter_topic(topic)
        for topic, agents in SUBSCRIBERS.items()
        for agent in agents
    }
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTERS", json.dumps(dead_letters))
    harness.reset()
    yield harness


def carry(harness: Harness) -> list[tuple[str, str, str]]:
    """Deliver everything on every topic to its subscribers until nothing moves."""
    log: list[tuple[str, str, str]] = []
    moved = True
    while moved:
        moved = False
        for topic, agents in SUBSCRIBERS.items():
            for message in harness.pull(topic):
                moved = True
                for agent in agents:
                    if agent in ROUTES and message.attributes["type"] not in ROUTES[agent]:
                        continue
                    outcome = push(harness, agent, topic, message)
                    log.append((agent, message.attributes["type"], outcome))
    return log


def push(harness: Harness, agent: str, topic: str, message: Message) -> str:
    envelope = {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": message.attributes,
            "messageId": "1",
        },
        "subscription": f"projects/{harness.project}/subscriptions/{agent}-{topic}",
    }
    response = agent_app(agent).test_client().post("/", json=envelope)
    assert response.status_code == 200, (agent, response.data)
    return response.json["outcome"]


def test_booking_to_payment_to_reminder(platform: Harness) -> None:
    gateway = agent_app("gateway").test_client()
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(microsecond=0)
    booking = {
        "customer": {"name": "Margaret", "phone": "+447700900099"},
        "service": "Fitting",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "amount_minor": 1500,
    }
    created = gateway.post("/bookings", json=booking, headers=api_headers())
    assert created.status_code == 202, created.data
    booking_id = created.json["booking_id"]
    log = carry(platform)
    assert ("scheduler", "booking.requested", "confirmed") in log
    assert ("billing", "booking.confirmed", "link_created") in log
    assert ("notifier", "notification.requested", "sent") in log
    assert all(outcome != "dead_lettered" for _, _, outcome in log)

    (link,) = platform.sandbox.objects("stripe.payment_links").values()
    (sms,) = platform.sandbox.objects("twilio.messages").values()
    assert link["url"] in sms["body"] and sms["to"] == "+447700900099"

    paid = json.dumps(
        {
            "id": "evt_flow_paid",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_flow",
                    "object": "checkout.session",
                    "payment_status": "paid",
                    "amount_total": 1500,
                    "currency": "gbp",
                    "metadata": {"booking_id": booking_id},
                }
            },
        }
    ).encode()
    signature = stripe_signature(paid, SECRETS["STRIPE_WEBHOOK_SECRET"])
    answer = gateway.post("/stripe", data=paid, headers={"Stripe-Signature": signature})
    assert answer.status_code == 200, answer.data
    log = carry(platform)
    assert ("billing", "payment.received", "recorded") in log

    tick = {
        "type": "tick",
        "target": "reminders",
        "event_id": "tick-flow-1",
        "source": "cloud-scheduler",
        "correlation_id": "tick-flow-1",
        "causation_id": "",
    }
    assert push(platform, "reminders", "ticks", Message(tick, b"{}")) == "reminded:1"
    carry(platform)

    projection = platform.firestore().collection("bookings").document(booking_id).get()
    state = projection.to_dict()
    assert state["status"] == "confirmed" and state["paid"] is True
    assert state["payment_link_url"] == link["url"]
    assert state["reminder_requested_at"] is not None
    texts = [m["body"] for m in platform.sandbox.objects("twilio.messages").values()]
    assert len(texts) == 3  # payment link, receipt (phone from the projection), reminder
    assert any("reminder" in body for body in texts)
    ledger = [doc.to_dict()["type"] for doc in platform.firestore().collection("ledger").stream()]
    assert sorted(ledger) == sorted(
        [
            "booking.requested",
            "booking.confirmed",
            "payment.link_created",
            "payment.received",
            "payment.recorded",
            *["notification.requested"] * 3,
        ]
    )
