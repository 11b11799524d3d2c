"""Finding 2 (calendar denial of service, ledger poisoning): every size, length, date and
count from outside is bounded, at the gateway (400 with the reason) and in the event
schemas every agent validates (a permanent schema error: dead-lettered with the reason
at once, never an OverflowError retried as transient)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functions.adversarial.gateway import booking, fields, fresh_instance, gateway_harness
from tests.functions.harness import Harness, agent_app, api_headers

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-bounds"
YEAR_9999 = "9999-12-31T23:59:59.999999-14:00"
SEVEN_THOUSAND_YEARS = ("2027-06-01T10:00:00+00:00", "9027-06-01T10:00:00+00:00")


@pytest.fixture(scope="module")
def gateway(emulators: Any, sandbox_server: Any) -> Harness:
    return gateway_harness(emulators, sandbox_server, PROJECT)


@pytest.fixture(scope="module")
def ledger(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(
        emulators, sandbox_server, PROJECT + "-ledger", "ledger", consumes=("bookings",)
    )


def post(gateway: Harness, monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]) -> Any:
    fresh_instance()
    gateway.activate(monkeypatch)
    return agent_app("gateway").test_client().post("/bookings", json=body, headers=api_headers())


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"starts_at": SEVEN_THOUSAND_YEARS[0], "ends_at": SEVEN_THOUSAND_YEARS[1]},
            "ends_at",
            "years 2000 and 2100",
        ),
        ({"ends_at": YEAR_9999}, "ends_at", "years 2000 and 2100"),
        ({"starts_at": YEAR_9999, "ends_at": YEAR_9999}, "starts_at", "years 2000 and 2100"),
        (
            {"starts_at": "2099-01-01T10:00:00Z", "ends_at": "2099-01-01T11:00:00Z"},
            "starts_at",
            "days ahead",
        ),
        (
            {"starts_at": "2021-01-01T10:00:00Z", "ends_at": "2021-01-01T11:00:00Z"},
            "starts_at",
            "future",
        ),
    ],
    ids=["7000-years", "ends-9999", "starts-9999", "beyond-horizon", "past"],
)
def test_unbounded_bookings_are_refused_with_a_reason(
    gateway: Harness,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    response = post(gateway, monkeypatch, booking(**change))
    assert response.status_code == 400, response.data
    assert field in fields(response)
    assert any(reason in e["message"] for e in response.json["errors"]), response.json
    assert gateway.pull("bookings") == []


def test_a_booking_longer_than_the_maximum_is_refused(
    gateway: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = booking()["starts_at"]
    import datetime as dt

    end = (dt.datetime.fromisoformat(start) + dt.timedelta(hours=13)).isoformat()
    response = post(gateway, monkeypatch, booking(ends_at=end))
    assert response.status_code == 400
    assert fields(response) == {"ends_at"}
    assert "at most 12 hours" in response.json["errors"][0]["message"]


def test_oversized_lists_and_strings_are_bounded(
    gateway: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = booking(customer={"name": "Ada", "phone": "+447700900555", "email": "a@" + "b" * 300})
    assert post(gateway, monkeypatch, body).status_code == 400
    body = booking(extra=["x"] * 10_000)
    response = post(gateway, monkeypatch, body)
    assert response.status_code in (400, 413)
    assert gateway.pull("bookings") == []


REQUESTED = {
    "booking_id": "bk-bounds-0001",
    "customer": {"name": "Linus", "phone": "+447700900004"},
    "service": "haircut",
    "amount_minor": 4000,
    "currency": "gbp",
}


@pytest.mark.parametrize(
    ("slot", "reason"),
    [
        ({"starts_at": "2030-01-01T10:00:00+00:00", "ends_at": YEAR_9999}, "years 2000 and 2100"),
        (
            {"starts_at": SEVEN_THOUSAND_YEARS[0], "ends_at": SEVEN_THOUSAND_YEARS[1]},
            "years 2000 and 2100",
        ),
        (
            {"starts_at": "2030-01-01T10:00:00+00:00", "ends_at": "2030-03-01T10:00:00+00:00"},
            "at most 12 hours",
        ),
    ],
    ids=["year-9999", "7000-years", "two-months"],
)
def test_a_poisoned_booking_event_is_dead_lettered_at_once_with_its_reason(
    ledger: Harness, monkeypatch: pytest.MonkeyPatch, slot: dict[str, str], reason: str
) -> None:
    ledger.activate(monkeypatch)
    envelope = ledger.envelope(
        "bookings", "booking.requested", {**REQUESTED, **slot}, event_id="e-poison"
    )
    response = ledger.push(envelope)
    assert response.status_code == 200, response.data  # acked: Pub/Sub does not retry it
    assert response.json["outcome"] == "dead_lettered"
    assert reason in response.json["detail"]
    (dead,) = ledger.pull(ledger.dead_letter_topic("bookings"))
    assert reason in dead.attributes["failure_reason"]
    assert json.loads(dead.data) == {**REQUESTED, **slot}  # the original, intact
    assert ledger.firestore().collection("ledger").document("e-poison").get().exists is False


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        (
            "payment.received",
            {
                "provider_event_id": "evt_1",
                "provider_event_type": "x",
                "payment_id": "pi_1",
                "amount_minor": 10**12,
                "currency": "gbp",
            },
        ),
        (
            "payment.received",
            {
                "provider_event_id": "evt_1",
                "provider_event_type": "x",
                "payment_id": "../../etc",
                "amount_minor": 1,
                "currency": "gbp",
            },
        ),
        (
            "sms.received",
            {
                "message_sid": "SM" + "1" * 32,
                "from_number": "+447700900004",
                "to_number": "+15005550006",
                "body": "b" * 2000,
            },
        ),
        (
            "payment.link_created",
            {
                "booking_id": "bk-bounds-0001",
                "payment_link_id": "pl_1",
                "url": "javascript:alert(1)",
                "amount_minor": 1,
                "currency": "gbp",
            },
        ),
    ],
    ids=["huge-amount", "path-id", "long-sms", "non-http-url"],
)
def test_schemas_bound_amounts_ids_and_bodies(event_type: str, data: dict[str, Any]) -> None:
    from switchboard_runtime.errors import PermanentError
    from switchboard_runtime.events import validate

    with pytest.raises(PermanentError):
        validate(event_type, data)
