"""Request bodies read with a cap and parsed with bounds: nothing from outside is unbounded.

The body is read from the WSGI stream, never trusting ``Content-Length`` alone: a declared
length above the cap is refused before reading, and a chunked (or lying) body is read at
most ``cap + 1`` bytes, then refused. So a 30 MiB request costs at most the cap in memory.
"""

from __future__ import annotations

import json
from typing import Any

READ_CHUNK = 64 * 1024
MAX_FORM_FIELDS = 64


class RefusedError(Exception):
    """A request refused with a 4xx (or 5xx) answer, a field and a reason; never retried as
    transient by the gateway."""

    def __init__(
        self, status: int, field: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {field}: {message}")
        self.status = status
        self.field = field
        self.message = message
        self.headers = headers or {}

    def answer(self) -> dict[str, Any]:
        return {"errors": [{"field": self.field, "message": self.message}]}


def too_large(cap: int) -> RefusedError:
    # Connection: close, so the server drops the connection instead of reading (and
    # discarding) the rest of the body.
    return RefusedError(
        413, "(body)", f"the body is larger than {cap} bytes", {"Connection": "close"}
    )


def read_body(request: Any, cap: int) -> bytes:
    """At most ``cap`` bytes of the body, or RefusedError(413) having read at most ``cap + 1``."""
    declared = request.content_length
    if declared is not None and declared > cap:
        raise too_large(cap)
    stream = request.stream
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = stream.read(min(READ_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise too_large(cap)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON document, or RefusedError(400): invalid UTF-8 or JSON, or nested too deep."""
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:
        raise RefusedError(400, "(body)", "the JSON document is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RefusedError(400, "(body)", f"not a JSON document: {type(exc).__name__}") from None


def parse_form(body: bytes) -> Any:
    """An ``application/x-www-form-urlencoded`` body as a werkzeug MultiDict (bounded)."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise RefusedError(400, "(body)", "the form is not UTF-8") from None
    except ValueError:
        raise RefusedError(400, "(body)", f"more than {MAX_FORM_FIELDS} form fields") from None
    return MultiDict(pairs)
