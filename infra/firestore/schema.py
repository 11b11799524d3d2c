"""What the agents need of Firestore's configuration, as plain data.

TTL policies: every collection whose documents carry an ``expires_at`` timestamp that
the code documents as its TTL field. Unindexed fields: timestamps written in rising order
on every message that nothing queries (Firestore limits writes to a collection with such an
indexed field to about 500 per second). Composite indexes: every query the agents make that
a single-field index cannot serve (or will not, once the query moves into Firestore).
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard_contract.environment import DEFAULT_FIRESTORE_DATABASE

DATABASE_ID = DEFAULT_FIRESTORE_DATABASE


@dataclass(frozen=True)
class CollectionField:
    """One field of a collection, and why it gets its setting (TTL, or no index)."""

    collection: str
    field: str
    why: str


@dataclass(frozen=True)
class CompositeIndex:
    name: str
    collection: str
    fields: tuple[tuple[str, str], ...]
    """(field path, ASCENDING | DESCENDING), in index order."""
    why: str


TTL_FIELDS: tuple[CollectionField, ...] = (
    CollectionField(
        "processed_events",
        "expires_at",
        "the runtime's idempotency claims (docs/agent-contract.md)",
    ),
    CollectionField(
        "notifications", "expires_at", "notifier's per-SMS records (functions/notifier)"
    ),
    CollectionField(
        "reminders", "expires_at", "reminders' per-booking claims (functions/reminders)"
    ),
    CollectionField(
        "sms_limits", "expires_at", "notifier's per-phone SMS counts (functions/notifier)"
    ),
)

CLAIM_TIMESTAMPS_WHY = (
    "the runtime's idempotency claims: written on every message, read by document id only"
)
UNINDEXED_FIELDS: tuple[CollectionField, ...] = tuple(
    CollectionField("processed_events", field, CLAIM_TIMESTAMPS_WHY)
    for field in ("claimed_at", "lease_expires_at", "completed_at")
)

COMPOSITE_INDEXES: tuple[CompositeIndex, ...] = (
    CompositeIndex(
        "bookings-by-status-and-start",
        "bookings",
        (("status", "ASCENDING"), ("starts_at", "ASCENDING")),
        "reminders: confirmed bookings starting within the reminder window "
        '(status == "confirmed" AND starts_at in [now, now + window], ordered by starts_at)',
    ),
)
