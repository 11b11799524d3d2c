"""The public edge against the running local platform (the real fleet under
functions-framework, the emulators and the sandbox): a burst of 100 booking requests from
one caller to one phone, plus a flood of notifications to that phone, sends at most the
documented number of SMS; a 7,000-year or year-9999 booking is refused with 400; a 30 MiB
body is refused with 413; nothing the platform accepted is lost or recorded twice."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from localdev.fake_secrets import api_key
from localdev.processes import sandbox_available
from tests.conftest import require_emulators
from tests.faults.harness import REPO, Fleet
from tests.localdev.harness import wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e]
PHONE = "+447700900444"
SMS_PER_HOUR = 5  # functions/notifier/notifier_limits.LIMITS (checked below)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_emulators()
    if not sandbox_available(REPO):
        pytest.skip("the sandbox package is not in this tree")
    fleet = Fleet(tmp_path_factory.mktemp("edge"), "switchboard-edge")
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


def _slot(index: int) -> tuple[str, str]:
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=3, hours=index)
    return start.isoformat(), (start + dt.timedelta(minutes=30)).isoformat()


def _post(fleet: Fleet, body: Any, key: str, **kwargs: Any) -> Any:
    return fleet.http.post(
        fleet.url("gateway") + "/bookings",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **kwargs,
    )


def _booking(index: int, **changes: Any) -> dict[str, Any]:
    start, end = _slot(index)
    body = {
        "customer": {"name": "Eve Mallory", "phone": PHONE},
        "service": "haircut",
        "starts_at": start,
        "ends_at": end,
        "amount_minor": 2500,
    }
    return {**body, **changes}


def _texts_to(fleet: Fleet, phone: str) -> list[dict[str, Any]]:
    messages = fleet.objects().get("twilio.messages", {}).values()
    return [m for m in messages if m.get("to") == phone]


def test_the_documented_sms_limit_is_the_one_enforced() -> None:
    import sys

    sys.path.insert(0, str(REPO / "functions" / "notifier"))
    import notifier_limits

    assert notifier_limits.LIMITS[0][0] == SMS_PER_HOUR


def test_a_burst_to_one_phone_sends_at_most_the_limit(fleet: Fleet) -> None:
    key = api_key(fleet.secret("booking-api-keys"), "local-default")
    assert _post(fleet, _booking(0), "not-a-key-not-a-key-not-a-key-0000").status_code == 401
    statuses = Counter(_post(fleet, _booking(i), key).status_code for i in range(100))
    assert set(statuses) <= {202, 429} and statuses[202] >= 1, statuses
    accepted = statuses[202]
    # Everything each accepted booking causes reaches the notifier: wait for the links.
    wait_for(lambda: len(_texts_to(fleet, PHONE)) >= accepted, 180, "the payment-link SMS", 1)
    # Then a flood straight onto the notifications topic (as if every agent texted it).
    flood = []
    for index in range(20):
        event_id = str(uuid.uuid4())
        data = {"to": PHONE, "body": f"flood {index}", "purpose": "other"}
        attributes = {
            "type": "notification.requested",
            "event_id": event_id,
            "source": "edge-test",
            "correlation_id": event_id,
            "causation_id": "",
        }
        flood.append((json.dumps(data).encode(), attributes))
    fleet.publish_many("notifications", flood)
    ids = [a["event_id"] for _, a in flood]

    def settled() -> bool:
        claims = fleet.claims("notifier", ids)
        return sum(1 for c in claims.values() if c.get("state") == "done") == len(ids)

    try:
        wait_for(settled, 180, "the notifier to settle the flood", 1)
    except AssertionError:
        states = Counter(c.get("state") for c in fleet.claims("notifier", ids).values())
        outcomes = Counter(e.outcome for e in fleet.trace() if e.event_id in set(ids))
        raise AssertionError(f"claims {dict(states)}; deliveries {dict(outcomes)}") from None
    texts = _texts_to(fleet, PHONE)
    print(f"100 requests: {dict(statuses)}; SMS to the phone: {len(texts)}")
    assert len(texts) == SMS_PER_HOUR
    assert len({m["body"] for m in texts}) == len(texts)  # none sent twice
    states = Counter(
        (fleet.db().collection("notifications").document(i).get().to_dict() or {}).get("state")
        for i in ids
    )
    assert states["suppressed"] == len(ids) - (SMS_PER_HOUR - accepted)
    # Every notification recorded by the ledger, suppressed or not: none lost.
    wait_for(lambda: fleet.ledger_ids(ids) == set(ids), 120, "the ledger to record the flood", 1)


@pytest.mark.parametrize(
    "change",
    [
        {"starts_at": "2027-06-01T10:00:00+00:00", "ends_at": "9027-06-01T10:00:00+00:00"},
        {"ends_at": "9999-12-31T23:59:59.999999-14:00"},
    ],
    ids=["7000-years", "year-9999"],
)
def test_unbounded_bookings_are_refused_by_the_running_gateway(
    fleet: Fleet, change: dict[str, str]
) -> None:
    key = api_key(fleet.secret("booking-api-keys"))
    response = _post(
        fleet, _booking(200, **change, customer={"name": "Ann", "phone": "+447700900445"}), key
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "ends_at"


def test_a_30_mib_chunked_body_is_413(fleet: Fleet) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"[" * (1024 * 1024)

    for path in ("/bookings", "/stripe", "/twilio"):
        key = api_key(fleet.secret("booking-api-keys"))
        response = fleet.http.post(
            fleet.url("gateway") + path,
            data=chunks(),
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 413, (path, response.status_code)
