"""Twilio through the official SDK, pointed at the sandbox by a custom HTTP client.

``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` authenticate. With
``SANDBOX_TWILIO_API_BASE`` set, :class:`BaseUrlHttpClient` (Twilio's supported
extension point, ``Client(http_client=...)``) rewrites ``https://api.twilio.com`` to the
sandbox; the SDK itself is unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

TWILIO_API = "https://api.twilio.com"
HTTP_TIMEOUT_SECONDS = 15.0
_lock = threading.Lock()
_cache: dict[tuple[str, str, str], Any] = {}


def client() -> Any:
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "")
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    base = os.environ.get("SANDBOX_TWILIO_API_BASE", "").rstrip("/")
    if not sid or not token:
        raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
    with _lock:
        found = _cache.get((sid, token, base))
        if found is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            class BaseUrlHttpClient(TwilioHttpClient):
                def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
                    if base and url.startswith(TWILIO_API):
                        url = base + url[len(TWILIO_API) :]
                    return super().request(method, url, *args, **kwargs)

            found = Client(sid, token, http_client=BaseUrlHttpClient(timeout=HTTP_TIMEOUT_SECONDS))
            _cache[(sid, token, base)] = found
        return found


def send(to: str, body: str) -> Any:
    sender = os.environ.get("TWILIO_FROM_NUMBER", "")
    if not sender:
        raise RuntimeError("TWILIO_FROM_NUMBER is not set")
    return client().messages.create(to=to, from_=sender, body=body)


def find_sent(to: str, reference: str, since: dt.datetime) -> str | None:
    """The SID of a message to ``to`` sent since ``since`` whose body carries ``reference``."""
    for message in client().messages.list(to=to, date_sent_after=since, limit=50):
        if reference in (message.body or ""):
            return str(message.sid)
    return None


def is_ambiguous(exc: BaseException) -> bool:
    """True when Twilio may have accepted the message although we got no answer."""
    from twilio.base.exceptions import TwilioRestException

    return not isinstance(exc, TwilioRestException)
