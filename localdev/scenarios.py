"""Named scenarios published into the running local platform, with what happened.

``python -m localdev scenario booking`` (confirmed, paid and reminded), ``conflict`` (a
booking whose slot is busy in the calendar is rejected) and ``poison`` (a malformed event
ends in a dead-letter topic). Each step waits for its evidence in the platform's trace
(or the sandbox's recorded requests) and prints one line; the first unmet expectation
stops the scenario.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from switchboard_contract import attributes as attr

from localdev.fake_secrets import api_key
from localdev.scenario_client import PlatformClient, ScenarioError
from localdev.stripe_signing import checkout_completed, signature_header
from localdev.ticks import tick_message
from localdev.trace import ACKED, DEAD_LETTERED

AMOUNT_MINOR = 2500
CURRENCY = "gbp"


@dataclass
class Report:
    name: str
    title: str
    lines: list[str] = field(default_factory=list)
    ok: bool = True
    seconds: float = 0.0

    def step(self, text: str) -> None:
        line = f"  ok      {text}"
        self.lines.append(line)
        print(line, flush=True)

    def fail(self, text: str) -> None:
        self.ok = False
        line = f"  FAILED  {text}"
        self.lines.append(line)
        print(line, flush=True)


Scenario = Callable[[PlatformClient, Report, float], None]


def _slot(earliest_hours: float, latest_hours: float) -> tuple[str, str]:
    """A random 30-minute slot (quarter-hour aligned) in the given window from now."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    quarters = random.randint(int(earliest_hours * 4), int(latest_hours * 4))
    start = now.replace(minute=(now.minute // 15) * 15) + dt.timedelta(minutes=15 * quarters)
    return start.isoformat(), (start + dt.timedelta(minutes=30)).isoformat()


def customer_name(first: str) -> str:
    """``first`` and a random letters-only surname (names may not carry digits)."""
    return f"{first} {''.join(random.choices('abcdefghijklmnopqrstuvwxyz', k=6)).title()}"


def customer_phone() -> str:
    """A fresh UK drama number per booking: the notifier limits SMS per phone."""
    return f"+447700{random.randint(900000, 900999)}"


def _request_booking(
    client: PlatformClient, name: str, start: str, end: str, phone: str
) -> dict[str, Any]:
    body = {
        "customer": {"name": name, "phone": phone},
        "service": "haircut",
        "starts_at": start,
        "ends_at": end,
        "amount_minor": AMOUNT_MINOR,
        "currency": CURRENCY,
    }
    response = client.http.post(
        client.agent_url("gateway") + "/bookings",
        json=body,
        headers={
            "Authorization": f"Bearer {api_key(client.secret('booking-api-keys'))}",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        timeout=30,
    )
    if response.status_code != 202:
        raise ScenarioError(f"POST /bookings answered {response.status_code}: {response.text}")
    return dict(response.json())


def _sms_to(client: PlatformClient, contains: str) -> list[str]:
    """Bodies of SMS the sandbox's Twilio received that contain ``contains``."""
    bodies = []
    for request in client.sandbox("GET", "/_sandbox/requests?service=twilio")["requests"]:
        text = parse_qs(request.get("body", "")).get("Body", [""])[0]
        if contains in text and request.get("status") == 201:
            bodies.append(text)
    return bodies


def _wait_sms(client: PlatformClient, contains: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := _sms_to(client, contains):
            return found[-1]
        time.sleep(0.3)
    raise ScenarioError(f"no SMS containing {contains!r} reached the sandbox in {timeout:.0f}s")


def booking(client: PlatformClient, report: Report, timeout: float) -> None:
    """A booking confirmed, paid and reminded."""
    mark = client.trace_mark()
    name, phone = customer_name("Ada"), customer_phone()
    start, end = _slot(1, 20)  # inside the reminders' 24-hour window
    answer = _request_booking(client, name, start, end, phone)
    booking_id, correlation = answer["booking_id"], answer["event_id"]
    report.step(f"POST /bookings -> 202: {booking_id} for {name!r} at {start}")

    decided = client.wait_for_event(
        mark,
        "the scheduler's decision",
        lambda e: (
            e.agent == "ledger"
            and e.event_type in ("booking.confirmed", "booking.rejected")
            and e.correlation_id == correlation
        ),
        timeout,
    )
    if decided.event_type == "booking.rejected":
        raise ScenarioError("the scheduler rejected the booking (is the slot busy?)")
    report.step("scheduler checked the calendar and confirmed it (booking.confirmed)")
    client.wait_for_ack(mark, "billing", "booking.confirmed", correlation, timeout)
    client.wait_for_ack(mark, "ledger", "payment.link_created", correlation, timeout)
    report.step("billing created a Stripe payment link (payment.link_created)")
    client.wait_for_ack(mark, "notifier", "notification.requested", correlation, timeout)
    link_sms = _wait_sms(client, f"Hi {name}", timeout)
    report.step(f"notifier texted the link: {link_sms.splitlines()[0]!r}")

    payload = checkout_completed(booking_id, AMOUNT_MINOR, CURRENCY, phone)
    secret = client.secret("stripe-webhook-secret")
    response = client.http.post(
        client.agent_url("gateway") + "/stripe",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(payload, secret),
        },
        timeout=30,
    )
    if response.status_code != 200:
        raise ScenarioError(f"POST /stripe answered {response.status_code}: {response.text}")
    paid = response.json()["event_id"]
    report.step("Stripe webhook checkout.session.completed (signed with the local whsec) -> 200")
    client.wait_for_ack(mark, "billing", "payment.received", paid, timeout)
    client.wait_for_ack(mark, "ledger", "payment.recorded", paid, timeout)
    report.step("billing recorded the payment (payment.recorded)")

    data, attributes = tick_message("reminders", dt.datetime.now(dt.UTC))
    client.publish("ticks", data, attributes)
    client.wait_for_ack(mark, "reminders", "tick", attributes["event_id"], timeout)
    reminder = _wait_sms(client, f"Hi {name}, a reminder", timeout)
    report.step(f"a tick made reminders request a reminder; SMS: {reminder.splitlines()[0]!r}")


def _calendar_id(client: PlatformClient) -> str | None:
    """The calendar the scheduler books into (its CALENDAR_ID on the local platform,
    ``localdev/settings.yaml``), if it has one."""
    from infra.catalogue import load_catalogue
    from localdev.agent_settings import local_agent_settings

    catalogue = load_catalogue(Path(client.state["functions_root"]))
    if "scheduler" not in catalogue.agents:
        return None
    return local_agent_settings(catalogue)["scheduler"].get("CALENDAR_ID")


def conflict(client: PlatformClient, report: Report, timeout: float) -> None:
    """A booking whose slot is already busy in the calendar is rejected."""
    mark = client.trace_mark()
    start, end = _slot(26, 200)
    calendar = _calendar_id(client)
    client.sandbox(
        "POST", "/_sandbox/calendar/busy", {"start": start, "end": end, "calendar_id": calendar}
    )
    report.step(f"the calendar is busy {start} .. {end} (sandbox)")
    answer = _request_booking(client, customer_name("Bob"), start, end, customer_phone())
    correlation = answer["event_id"]
    report.step(f"POST /bookings for that slot -> 202: {answer['booking_id']}")
    decided = client.wait_for_event(
        mark,
        "the scheduler's decision",
        lambda e: (
            e.agent == "ledger"
            and e.event_type in ("booking.confirmed", "booking.rejected")
            and e.correlation_id == correlation
            and e.outcome == ACKED
        ),
        timeout,
    )
    if decided.event_type != "booking.rejected":
        raise ScenarioError("the scheduler confirmed a booking in a busy slot")
    report.step("scheduler rejected it (booking.rejected, recorded by the ledger)")
    time.sleep(2)
    billed = [
        e
        for e in client.trace_since(mark)
        if e.agent == "billing" and e.correlation_id == correlation and e.outcome == ACKED
    ]
    if billed:
        raise ScenarioError("billing acted on a rejected booking")
    report.step("billing never saw it (its filter admits booking.confirmed only)")


def poison(client: PlatformClient, report: Report, timeout: float) -> None:
    """A malformed booking.requested ends in the scheduler's dead-letter topic."""
    mark = client.trace_mark()
    event_id = str(uuid.uuid4())
    attributes = {
        attr.TYPE: "booking.requested",
        attr.EVENT_ID: event_id,
        attr.SOURCE: "scenario",
        attr.CORRELATION_ID: event_id,
        attr.CAUSATION_ID: "",
    }
    client.publish("bookings", b'{"booking_id": "bk-poison", "starts_at": ', attributes)
    report.step(f"published a booking.requested whose data is not JSON ({event_id[:8]})")
    settled = client.wait_for_event(
        mark,
        "the scheduler settling the poison message",
        lambda e: (
            e.agent == "scheduler"
            and e.event_id == event_id
            and e.outcome in (ACKED, DEAD_LETTERED)
        ),
        timeout,
    )
    how = (
        f"the agent's runtime dead-lettered it as a permanent failure ({settled.detail}) "
        "and Pub/Sub acked it"
        if settled.outcome == ACKED
        else f"the platform dead-lettered it after {settled.attempt} failed deliveries"
    )
    report.step(f"scheduler: {how}")
    subscription = "scheduler-on-bookings-dead-letter"
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while not found and time.monotonic() < deadline:
        found = client.peek_dead_letters(subscription, event_id)
    if not found:
        raise ScenarioError(f"the message is not on {subscription}")
    message = found[0]
    extra = {k: v for k, v in message["attributes"].items() if k not in attributes}
    report.step(
        f"it is on {subscription}, data intact ({len(message['data'])} bytes), "
        f"with {json.dumps(extra, sort_keys=True)}"
    )
    report.step("left there (nacked) for tools/deadletters to inspect or redrive")


SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "booking": ("a booking confirmed, paid and reminded", booking),
    "conflict": ("a booking that conflicts in the calendar is rejected", conflict),
    "poison": ("a poison message ends in a dead-letter topic", poison),
}


def run(name: str, client: PlatformClient, timeout: float) -> Report:
    title, scenario = SCENARIOS[name]
    report = Report(name, title)
    print(f"scenario {name}: {title}", flush=True)
    started = time.monotonic()
    try:
        scenario(client, report, timeout)
    except ScenarioError as failure:
        report.fail(str(failure))
    report.seconds = time.monotonic() - started
    print(f"{'ok' if report.ok else 'FAILED'} in {report.seconds:.1f}s", flush=True)
    return report
