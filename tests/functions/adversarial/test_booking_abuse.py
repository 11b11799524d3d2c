"""Finding 1 (SMS relay) and 6 (coercion, key reuse): who may call POST /bookings, how
often, and with what. Each test sends the hostile input to the real gateway app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.functions.adversarial.gateway import (
    LIMITED_KEY,
    PHONE,
    booking,
    fields,
    fresh_instance,
    gateway_harness,
)
from tests.functions.harness import Harness, agent_app, api_headers

pytestmark = pytest.mark.emulator
PROJECT = "demo-adversarial-bookings"


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return gateway_harness(emulators, sandbox_server, PROJECT)


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    fresh_instance()
    return harness.activate(monkeypatch)


@pytest.fixture
def client() -> Any:
    return agent_app("gateway").test_client()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-key-wrong-key-wrong-key-wrong",
        "Basic dGVzdHM6eA==",
        "Bearer " + "x" * 600,
    ],
    ids=["none", "empty", "no-key", "wrong-key", "basic", "huge"],
)
def test_anonymous_callers_get_401_and_send_nothing(
    platform: Harness, client: Any, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/bookings", json=booking(), headers=headers)
    assert response.status_code == 401, response.data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert platform.pull("bookings") == []


def test_burst_of_100_from_one_caller_to_one_phone_publishes_at_most_the_phone_limit(
    platform: Harness, client: Any
) -> None:
    import gateway_bookings

    statuses = []
    for index in range(100):
        minutes = 60 * (index + 1)
        body = booking(starts_at=_later(minutes), ends_at=_later(minutes + 30))
        statuses.append(client.post("/bookings", json=body, headers=api_headers()).status_code)
    accepted = statuses.count(202)
    assert accepted == gateway_bookings.PHONE_BURST
    assert statuses.count(429) == 100 - accepted
    assert len(platform.pull("bookings")) == accepted


def test_a_caller_over_its_per_minute_limit_gets_429_with_retry_after(
    platform: Harness, client: Any
) -> None:
    headers = {"Authorization": f"Bearer {LIMITED_KEY}"}
    answers = [
        client.post("/bookings", json=booking(customer=_customer(i)), headers=headers)
        for i in range(7)
    ]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 2
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert len(platform.pull("bookings")) == 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"customer": {"name": "URGENT verify at http://evil.example/login", "phone": PHONE}},
            "customer.name",
        ),
        ({"customer": {"name": "Bank call 08001234567", "phone": PHONE}}, "customer.name"),
        ({"customer": {"name": "evil.example", "phone": PHONE}}, "customer.name"),
        ({"customer": {"name": "A" * 41, "phone": PHONE}}, "customer.name"),
        ({"service": "haircut http://evil.example"}, "service"),
        ({"service": "massage"}, "service"),
        ({"notes": "n" * 501}, "notes"),
        ({"amount_minor": 100_000_000}, "amount_minor"),
    ],
    ids=[
        "url-name",
        "phone-name",
        "domain-name",
        "long-name",
        "url-service",
        "undeclared-service",
        "long-notes",
        "huge-amount",
    ],
)
def test_sms_fields_are_validated_and_bounded(
    platform: Harness, client: Any, change: dict[str, Any], field: str
) -> None:
    response = client.post("/bookings", json=booking(**change), headers=api_headers())
    assert response.status_code == 400, response.data
    assert field in fields(response) or any(field in f for f in fields(response))
    assert platform.pull("bookings") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_minor": "2500"}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": 2500.0}, "amount_minor"),
        ({"starts_at": 1924992000}, "starts_at"),
        ({"customer": {"name": "Ada", "phone": 447700900555}}, "customer.phone"),
    ],
    ids=["string-amount", "bool-amount", "float-amount", "epoch-time", "number-phone"],
)
def test_the_booking_api_refuses_coercion(
    platform: Harness, client: Any, change: dict[str, Any], field: str
) -> None:
    response = client.post("/bookings", json=booking(**change), headers=api_headers())
    assert response.status_code == 400, response.data
    assert field in fields(response)
    assert platform.pull("bookings") == []


def test_a_reused_idempotency_key_with_another_body_is_422(platform: Harness, client: Any) -> None:
    headers = api_headers(**{"Idempotency-Key": "order-77"})
    first = client.post("/bookings", json=booking(), headers=headers)
    assert first.status_code == 202, first.data
    again = client.post("/bookings", json=booking(), headers=headers)
    assert again.status_code == 202 and again.json == first.json
    other = client.post("/bookings", json=booking(amount_minor=1), headers=headers)
    assert other.status_code == 422, other.data
    assert fields(other) == {"Idempotency-Key"}
    published = platform.pull("bookings")
    assert {m.attributes["event_id"] for m in published} == {first.json["event_id"]}
    assert all(m.json()["amount_minor"] == 2500 for m in published)


def test_idempotency_keys_are_bounded_and_scoped_to_the_caller(
    platform: Harness, client: Any
) -> None:
    bad = client.post(
        "/bookings", json=booking(), headers=api_headers(**{"Idempotency-Key": "k" * 256})
    )
    assert bad.status_code == 400 and fields(bad) == {"Idempotency-Key"}
    mine = client.post("/bookings", json=booking(), headers=api_headers(**{"Idempotency-Key": "k"}))
    theirs = client.post(
        "/bookings",
        json=booking(customer=_customer(1)),
        headers={"Authorization": f"Bearer {LIMITED_KEY}", "Idempotency-Key": "k"},
    )
    assert mine.status_code == theirs.status_code == 202
    assert mine.json["event_id"] != theirs.json["event_id"]


def test_a_retry_refused_by_the_phone_limit_is_not_let_through_by_its_key(
    platform: Harness, client: Any
) -> None:
    import gateway_bookings

    for index in range(gateway_bookings.PHONE_BURST):
        minutes = 60 * (index + 1)
        body = booking(starts_at=_later(minutes), ends_at=_later(minutes + 30))
        assert client.post("/bookings", json=body, headers=api_headers()).status_code == 202
    keyed = api_headers(**{"Idempotency-Key": "retry-me"})
    assert client.post("/bookings", json=booking(), headers=keyed).status_code == 429
    assert client.post("/bookings", json=booking(), headers=keyed).status_code == 429


def test_a_malformed_key_secret_is_a_503_that_names_no_key(
    platform: Harness, client: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("BOOKING_API_KEYS", json.dumps({"tests": {"keys": ["short-secret"]}}))
    response = client.post("/bookings", json=booking(), headers=api_headers())
    assert response.status_code == 503
    assert "short-secret" not in capsys.readouterr().out
    assert platform.pull("bookings") == []


def _customer(index: int) -> dict[str, str]:
    return {"name": "Ada Lovelace", "phone": f"+4477009006{index:02d}"}


def _later(minutes: int) -> str:
    import datetime as dt

    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return (start + dt.timedelta(days=3, minutes=minutes)).isoformat()
