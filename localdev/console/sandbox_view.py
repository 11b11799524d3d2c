"""The sandbox's recorded third-party calls (``GET /_sandbox/requests``), for the console."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

import requests

MAX_CALLS = 2_000
MAX_BODY_CHARS = 4_000
REDACTED_HEADERS = ("Authorization",)
MIN_KEY_LENGTH = 6


def redact(call: dict[str, Any]) -> dict[str, Any]:
    """A recorded call without credentials, its body bounded for the page."""
    headers = {
        name: ("(redacted)" if name in REDACTED_HEADERS else value)
        for name, value in (call.get("headers") or {}).items()
    }
    body = str(call.get("body", ""))
    return {
        "seq": call.get("seq"),
        "time": call.get("time"),
        "service": call.get("service"),
        "method": call.get("method"),
        "path": call.get("path"),
        "query": call.get("query", ""),
        "status": call.get("status"),
        "fault": call.get("fault"),
        "headers": headers,
        "body": unquote_plus(body[:MAX_BODY_CHARS]),
        "body_truncated": len(body) > MAX_BODY_CHARS,
    }


def mentions(call: dict[str, Any], keys: Iterable[str]) -> bool:
    """Whether a (redacted) call names one of ``keys`` in its path, query, body or
    idempotency key: how a calendar event, a payment link or an SMS ties to a booking."""
    text = " ".join(
        str(part)
        for part in (
            call.get("path", ""),
            unquote_plus(str(call.get("query", ""))),
            call.get("body", ""),
            (call.get("headers") or {}).get("Idempotency-Key", ""),
        )
    )
    return any(len(key) >= MIN_KEY_LENGTH and key in text for key in keys)


class SandboxView:
    def __init__(self, url: str | None) -> None:
        self.url = url
        self._http = requests.Session()

    def calls(self, service: str | None = None) -> list[dict[str, Any]]:
        """The newest recorded calls, oldest first (empty when no sandbox runs)."""
        if not self.url:
            return []
        params = {"service": service} if service else None
        response = self._http.get(self.url + "/_sandbox/requests", params=params, timeout=10)
        response.raise_for_status()
        found = response.json().get("requests", [])
        return [redact(call) for call in found[-MAX_CALLS:]]
