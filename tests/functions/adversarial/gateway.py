"""Shared pieces of the adversarial suite's gateway tests: the harness, bookings, limits."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from tests.functions.harness import SECRETS, Harness

PUBLIC = "https://gateway.example.com"
PHONE = "+447700900555"
LIMITED_KEY = "sbk_test_limited_caller_key_000000000000002"
KEYS = {
    "tests": {"keys": [json.loads(SECRETS["BOOKING_API_KEYS"])["tests"]["keys"][0]]},
    "limited": {"keys": [LIMITED_KEY], "per_minute": 5},
}


def gateway_harness(emulators: Any, sandbox: Any, project: str) -> Harness:
    return Harness.started(
        emulators,
        sandbox,
        project,
        "gateway",
        publishes=("bookings", "payments", "inbound"),
        extra_env={
            "SWITCHBOARD_PUBLIC_URL": PUBLIC,
            "BOOKING_CURRENCY": "gbp",
            "BOOKING_API_KEYS": json.dumps(KEYS),
        },
    )


def fresh_instance() -> None:
    """Forget the in-memory limits, as a new gateway instance starts with none."""
    bookings = sys.modules.get("gateway_bookings")
    for table in ("limiter", "remembered"):
        if hasattr(bookings, table):
            getattr(bookings, table).clear()


def booking(**changes: Any) -> dict[str, Any]:
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(
        minute=0, second=0, microsecond=0
    )
    document: dict[str, Any] = {
        "customer": {"name": "Grace Hopper", "phone": PHONE},
        "service": "haircut",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(minutes=45)).isoformat(),
        "amount_minor": 2500,
    }
    document.update(changes)
    return document


def fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json["errors"]}
