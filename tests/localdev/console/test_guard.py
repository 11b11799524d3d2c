"""What the console accepts from a browser: its own Host and Origin, JSON, bounded input."""

from __future__ import annotations

import pytest

from localdev.console import guard
from localdev.console.guard import RefusedError

PORT = 8704
OWN = {"Host": f"127.0.0.1:{PORT}", "Origin": f"http://127.0.0.1:{PORT}"}
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("host", [f"127.0.0.1:{PORT}", f"localhost:{PORT}"])
def test_own_host_is_accepted(host: str) -> None:
    guard.check_host({"Host": host}, PORT)


@pytest.mark.parametrize(
    "host", ["", "evil.example", f"evil.example:{PORT}", "127.0.0.1:80", f"127.0.0.2:{PORT}"]
)
def test_a_rebound_or_missing_host_is_refused(host: str) -> None:
    with pytest.raises(RefusedError) as refused:
        guard.check_host({"Host": host}, PORT)
    assert refused.value.status == 421


def test_a_post_from_the_console_page_is_accepted() -> None:
    guard.check_state_change({**OWN, **JSON}, PORT, 100)
    guard.check_state_change({**OWN, "Content-Type": "application/json; charset=utf-8"}, PORT, 1)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": OWN["Host"], **JSON}, 403),  # no Origin
        ({**OWN, "Origin": "http://evil.example", **JSON}, 403),  # CSRF from another page
        ({**OWN, "Origin": "null", **JSON}, 403),
        ({**OWN, "Content-Type": "text/plain"}, 415),  # a cross-site form's simple request
        ({**OWN, "Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({**OWN, "Host": "evil.example", **JSON}, 421),
    ],
)
def test_state_changes_from_elsewhere_are_refused(headers: dict[str, str], status: int) -> None:
    with pytest.raises(RefusedError) as refused:
        guard.check_state_change(headers, PORT, 10)
    assert refused.value.status == status


@pytest.mark.parametrize(("length", "status"), [(-1, 411), (guard.MAX_BODY_BYTES + 1, 413)])
def test_a_missing_or_huge_body_is_refused(length: int, status: int) -> None:
    with pytest.raises(RefusedError) as refused:
        guard.check_state_change({**OWN, **JSON}, PORT, length)
    assert refused.value.status == status


@pytest.mark.parametrize(
    "value",
    ["aafffa45-ddae-5ea1-a954-89a7d4c3439a", "stripe:evt_123", "twilio:SM0a1b", "12345678901"],
)
def test_ids_the_platform_uses_are_valid(value: str) -> None:
    assert guard.an_id(value, "id") == value


@pytest.mark.parametrize("value", ["<script>", "a b", "x" * 201, "-leading", "a\nb", "é"])
def test_other_ids_are_refused(value: str) -> None:
    with pytest.raises(RefusedError, match="id is not a valid id"):
        guard.an_id(value, "id")


def test_missing_values_and_names() -> None:
    with pytest.raises(RefusedError, match="id is required"):
        guard.an_id("", "id")
    assert guard.an_id(None, "id", required=False) is None
    assert guard.a_name("scheduler-on-bookings", "subscription") == "scheduler-on-bookings"
    with pytest.raises(RefusedError):
        guard.a_name("../etc", "collection")


def test_numbers_are_bounded() -> None:
    assert guard.bounded(None, 200, 1, 1000, "limit") == 200
    assert guard.bounded("5000000", 200, 1, 1000, "limit") == 1000
    assert guard.bounded("0", 200, 1, 1000, "limit") == 1
    with pytest.raises(RefusedError, match="whole number"):
        guard.bounded("-3", 200, 1, 1000, "limit")
