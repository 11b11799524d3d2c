"""Who may call the booking API: a bearer API key per caller, from Secret Manager.

``BOOKING_API_KEYS`` (the ``booking-api-keys`` secret) is a JSON object, one entry per
caller (a server of ours or a partner's, never a browser)::

    {"website": {"keys": ["sbk_..."], "per_minute": 30}}

``keys`` holds one or two keys (two while rotating), each 32..256 printable characters;
``per_minute`` (1..6000, default 30) is the caller's request limit. A request sends
``Authorization: Bearer <key>``; every configured key is compared in constant time
(``hmac.compare_digest``), all of them, so the answer's timing says nothing about which
key or caller came close. No key, or a wrong one: 401 and nothing is read or published.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from typing import Any

from gateway_body import RefusedError

ENV = "BOOKING_API_KEYS"
DEFAULT_PER_MINUTE = 30
MAX_HEADER = 512
_lock = threading.Lock()
_cache: dict[str, tuple[tuple[bytes, Caller], ...]] = {}


@dataclass(frozen=True)
class Caller:
    name: str
    per_minute: int


class ApiKeysError(RuntimeError):
    """The secret's value is malformed (the message never contains a key)."""


def _model() -> Any:
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field, RootModel

    class Entry(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        keys: list[
            Annotated[str, Field(min_length=32, max_length=256, pattern=r"^[\x21-\x7e]+$")]
        ] = Field(min_length=1, max_length=2)
        per_minute: int = Field(default=DEFAULT_PER_MINUTE, ge=1, le=6000)

    CallerName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")]  # noqa: N806

    class Keys(RootModel[dict[CallerName, Entry]]):  # type: ignore[valid-type]
        pass

    return Keys


def _parse(raw: str) -> tuple[tuple[bytes, Caller], ...]:
    from pydantic import ValidationError

    try:
        document = _model().model_validate_json(raw, strict=True).root
    except ValidationError as exc:
        # Locations only: the values are keys and must never reach a log.
        places = sorted({".".join(str(p) for p in e["loc"]) or "(value)" for e in exc.errors()})
        raise ApiKeysError(f"{ENV} is not valid: check {', '.join(places)[:300]}") from None
    if not document:
        raise ApiKeysError(f"{ENV} names no caller")
    return tuple(
        (key.encode(), Caller(name, entry.per_minute))
        for name, entry in document.items()
        for key in entry.keys
    )


def configured() -> tuple[tuple[bytes, Caller], ...]:
    raw = os.environ.get(ENV, "")
    if not raw:
        raise ApiKeysError(f"{ENV} is not set: the booking API has no callers")
    digest = hashlib.sha256(raw.encode()).hexdigest()
    with _lock:
        found = _cache.get(digest)
        if found is None:
            found = _parse(raw)
            _cache.clear()
            _cache[digest] = found
        return found


def authenticate(request: Any) -> Caller:
    """The caller whose key the request presents, or RefusedError(401)."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not header or len(header) > MAX_HEADER or scheme.lower() != "bearer" or not presented:
        raise _unauthorized("send Authorization: Bearer <your API key>")
    candidate = presented.strip().encode()
    match: Caller | None = None
    for key, caller in configured():
        if hmac.compare_digest(candidate, key) and match is None:
            match = caller
    if match is None:
        raise _unauthorized("the API key is not valid")
    return match


def _unauthorized(message: str) -> RefusedError:
    return RefusedError(
        401, "Authorization", message, {"WWW-Authenticate": 'Bearer realm="switchboard-bookings"'}
    )
