"""What the console accepts from a browser: its own Host and Origin only, bounded ids and
numbers. Loopback is not enough on its own: a web page elsewhere can make the browser
send requests to 127.0.0.1 (CSRF) or rebind its own name to it (DNS rebinding)."""

from __future__ import annotations

import re
from collections.abc import Mapping

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._@/+=-]{0,199}$")
NAME = re.compile(r"^[a-z][a-z0-9._-]{0,99}$")
MAX_BODY_BYTES = 256 * 1024


class RefusedError(ValueError):
    """The request is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


def check_host(headers: Mapping[str, str], port: int) -> None:
    """Every request must name this server: a rebound name is refused."""
    host = headers.get("Host", "")
    if host not in allowed_hosts(port):
        raise RefusedError(
            421, f"the console answers only to {' or '.join(sorted(allowed_hosts(port)))}"
        )


def check_state_change(headers: Mapping[str, str], port: int, length: int) -> None:
    """A POST must come from the console's own page: same Origin, a JSON body (which a
    cross-site form cannot send without a pre-flight), and a bounded size."""
    check_host(headers, port)
    origin = headers.get("Origin", "")
    if origin not in {f"http://{host}" for host in allowed_hosts(port)}:
        raise RefusedError(403, "state-changing requests must come from the console's own page")
    content_type = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise RefusedError(415, "send application/json")
    if length < 0:
        raise RefusedError(411, "send the JSON body with a Content-Length")
    if length > MAX_BODY_BYTES:
        raise RefusedError(413, f"the body must be at most {MAX_BODY_BYTES} bytes")


def an_id(value: str | None, what: str, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise RefusedError(400, f"{what} is required")
        return None
    if not ID.match(value):
        raise RefusedError(400, f"{what} is not a valid id")
    return value


def a_name(value: str | None, what: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise RefusedError(400, f"{what} is required")
        return None
    if not NAME.match(value):
        raise RefusedError(400, f"{what} is not a valid name")
    return value


def bounded(value: str | None, default: int, low: int, high: int, what: str) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise RefusedError(400, f"{what} must be a whole number")
    return max(low, min(high, int(value)))
