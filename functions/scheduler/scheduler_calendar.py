"""Google Calendar through google-api-python-client (static discovery, no network lookup).

Credentials: ``GOOGLE_CALENDAR_CREDENTIALS`` (a service-account key or external-account
JSON) in the cloud. With ``SANDBOX_CALENDAR_API_BASE`` set (local platform, tests), the
client talks to the sandbox at ``<base>/calendar/v3/`` with anonymous credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from typing import Any

SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
)
HTTP_TIMEOUT_SECONDS = 20.0
_local = threading.local()  # httplib2 is not thread-safe: one service per thread


def calendar_event_id(booking_id: str) -> str:
    """The client-chosen event id: base32hex (a-v, 0-9) of a hash of the booking id."""
    digest = hashlib.sha256(f"switchboard-booking:{booking_id}".encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def calendar_id() -> str:
    return os.environ.get("CALENDAR_ID", "primary")


def preload() -> None:
    """Import the Calendar client's libraries (the start-up warm-up). The service itself
    is per thread (httplib2), so the request's thread builds its own, quickly, later."""
    import google.auth  # noqa: F401
    import google_auth_httplib2  # noqa: F401
    import httplib2  # noqa: F401
    from googleapiclient import discovery, errors  # noqa: F401


def service() -> Any:
    """A cached Calendar v3 service for this thread and configuration."""
    base = os.environ.get("SANDBOX_CALENDAR_API_BASE", "")
    secret = os.environ.get("GOOGLE_CALENDAR_CREDENTIALS", "")
    key = (base, hashlib.sha256(secret.encode()).hexdigest())
    cached = getattr(_local, "cache", None)
    if cached is None or cached[0] != key:
        _local.cache = (key, _build(base, secret))
    return _local.cache[1]


def _build(base: str, secret: str) -> Any:
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build

    options: dict[str, Any] = {}
    if base:
        from google.auth.credentials import AnonymousCredentials

        credentials: Any = AnonymousCredentials()
        options["api_endpoint"] = base.rstrip("/") + "/calendar/v3/"
    else:
        import google.auth

        if not secret:
            raise RuntimeError("GOOGLE_CALENDAR_CREDENTIALS is not set")
        credentials, _ = google.auth.load_credentials_from_dict(json.loads(secret), scopes=SCOPES)
    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=HTTP_TIMEOUT_SECONDS)
    )
    return build(
        "calendar",
        "v3",
        http=http,
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )


def _status(exc: Exception) -> int | None:
    from googleapiclient.errors import HttpError

    return int(exc.resp.status) if isinstance(exc, HttpError) else None


def get_event(event_id: str) -> dict[str, Any] | None:
    """The event, or None when it does not exist."""
    try:
        return service().events().get(calendarId=calendar_id(), eventId=event_id).execute()
    except Exception as exc:
        if _status(exc) in (404, 410):
            return None
        raise


def busy_blocks(starts_at: str, ends_at: str) -> list[dict[str, str]]:
    body = {"timeMin": starts_at, "timeMax": ends_at, "items": [{"id": calendar_id()}]}
    answer = service().freebusy().query(body=body).execute()
    calendar = (answer.get("calendars") or {}).get(calendar_id()) or {}
    if calendar.get("errors"):
        raise RuntimeError(f"free/busy error for {calendar_id()}: {calendar['errors']}")
    return list(calendar.get("busy") or [])


def insert_event(event_id: str, body: dict[str, Any]) -> bool:
    """Create the event with our id; False when it already existed (409)."""
    try:
        service().events().insert(calendarId=calendar_id(), body={**body, "id": event_id}).execute()
    except Exception as exc:
        if _status(exc) == 409:
            return False
        raise
    return True


def cancel_event(event_id: str) -> bool:
    """Delete (cancel) the event; False when it was already gone (404/410)."""
    try:
        service().events().delete(calendarId=calendar_id(), eventId=event_id).execute()
    except Exception as exc:
        if _status(exc) in (404, 410):
            return False
        raise
    return True
