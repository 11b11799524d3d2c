"""Which push responses acknowledge a message (Pub/Sub push semantics, docs/architecture.md)."""

from __future__ import annotations

ACK_STATUS_CODES = frozenset({102, 200, 201, 202, 204})
"""Pub/Sub push treats exactly these as success; anything else (or no answer) is a failure."""


def is_ack(status: int | None) -> bool:
    """True when a push answered with ``status`` is acknowledged; None means no answer."""
    return status in ACK_STATUS_CODES
