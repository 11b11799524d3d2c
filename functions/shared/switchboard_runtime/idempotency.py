"""Idempotency claims in Firestore: one side effect per (agent, event).

Collection ``processed_events``, document id ``<agent>:<event_id>``:

| field | meaning |
|---|---|
| ``agent``, ``event_id``, ``type`` | what was claimed |
| ``state`` | ``claimed`` (in progress), ``done`` (processed) or ``failed`` (dead-lettered) |
| ``lease_expires_at`` | while ``claimed``: when another delivery may take the claim over |
| ``attempts`` | how many deliveries claimed it |
| ``token`` | the current holder's random token |
| ``outcome`` / ``failure_reason`` | set on completion |
| ``expires_at`` | the TTL policy's field: the document is deleted after it |

A claim is made with ``create()``, which fails with AlreadyExists when another delivery
made it first: that is the concurrency guard. A ``done``/``failed`` event is acked with no
side effect. A ``claimed`` one whose lease ran out (its holder crashed or timed out) is
taken over in a transaction; the handler then runs again and relies on the third party's
own idempotency (Stripe keys, Calendar event ids, the notifier's SID record) for side
effects that happened before the crash.

A redriven message (``redrive_target`` attribute, see ``tools/deadletters``) may re-claim a
``failed`` event: an operator fixed the cause and sent it back on purpose. A ``done`` event
stays done, so redriving something that did succeed still has no second side effect.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass
from typing import Any

from switchboard_runtime import clients
from switchboard_runtime.budget import timeout_seconds

COLLECTION = "processed_events"
LEASE_MARGIN_SECONDS = 30.0
RETENTION_DAYS = 30


class ClaimResult(enum.Enum):
    CLAIMED = "claimed"  # ours: run the handler
    TAKEN_OVER = "taken_over"  # ours, after a lease expired: run the handler again
    DUPLICATE = "duplicate"  # already done or failed: ack, no side effect
    BUSY = "busy"  # another delivery holds a live lease: retry later


def lease_seconds() -> float:
    """How long a claim is held: the request's timeout plus a margin."""
    return timeout_seconds() + LEASE_MARGIN_SECONDS


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def doc_id(agent: str, event_id: str) -> str:
    # Firestore ids may not contain '/'; event ids are ours, but stay safe.
    return f"{agent}:{event_id}".replace("/", "_")


@dataclass
class Claim:
    agent: str
    event_id: str
    event_type: str
    token: str = ""
    result: ClaimResult | None = None
    attempts: int = 1
    redrive: bool = False
    """True for a redriven delivery: a ``failed`` claim may be taken again."""

    def _finished(self, current: dict[str, Any]) -> bool:
        state = current.get("state")
        return state == "done" or (state == "failed" and not self.redrive)

    @property
    def reference(self) -> Any:
        return (
            clients.firestore_client()
            .collection(COLLECTION)
            .document(doc_id(self.agent, self.event_id))
        )

    def acquire(self) -> ClaimResult:
        """Try to claim the event (see the module docstring)."""
        from google.api_core.exceptions import AlreadyExists

        self.token = secrets.token_hex(8)
        moment = now()
        try:
            self.reference.create(self._claimed_fields(moment, attempts=1))
            self.result = ClaimResult.CLAIMED
            return self.result
        except AlreadyExists:
            pass
        # The common cases (done, or held by a live lease) need no transaction.
        snapshot = self.reference.get()
        current = (snapshot.to_dict() or {}) if snapshot.exists else {}
        if self._finished(current):
            self.result = ClaimResult.DUPLICATE
        elif current.get("state") == "failed":
            self.result = self._take_over_if_expired()
        elif snapshot.exists and (current.get("lease_expires_at") or moment) > now():
            self.result = ClaimResult.BUSY
        else:
            self.result = self._take_over_if_expired()
        return self.result

    def _claimed_fields(self, moment: dt.datetime, attempts: int) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "event_id": self.event_id,
            "type": self.event_type,
            "state": "claimed",
            "token": self.token,
            "attempts": attempts,
            "claimed_at": moment,
            "lease_expires_at": moment + dt.timedelta(seconds=lease_seconds()),
            "expires_at": moment + dt.timedelta(days=RETENTION_DAYS),
        }

    def _take_over_if_expired(self) -> ClaimResult:
        from google.cloud import firestore

        client = clients.firestore_client()
        reference = self.reference

        @firestore.transactional
        def take(transaction: Any) -> ClaimResult:
            snapshot = reference.get(transaction=transaction)
            if not snapshot.exists:  # released between our create() and now
                self.attempts = 1
                transaction.create(reference, self._claimed_fields(now(), attempts=1))
                return ClaimResult.CLAIMED
            current = snapshot.to_dict() or {}
            if self._finished(current):
                return ClaimResult.DUPLICATE
            lease = current.get("lease_expires_at")
            moment = now()
            redriving_failure = current.get("state") == "failed"
            if lease is not None and lease > moment and not redriving_failure:
                return ClaimResult.BUSY
            self.attempts = int(current.get("attempts", 1)) + 1
            transaction.update(reference, self._claimed_fields(moment, self.attempts))
            return ClaimResult.TAKEN_OVER

        return take(client.transaction(max_attempts=3))

    def complete(self, outcome: str = "processed") -> None:
        self.reference.set(
            {"state": "done", "outcome": outcome, "completed_at": now(), "token": self.token},
            merge=True,
        )

    def fail(self, reason: str) -> None:
        """Mark the event done-with-failure (it has been dead-lettered)."""
        moment = now()
        self.reference.set(
            {
                "agent": self.agent,
                "event_id": self.event_id,
                "type": self.event_type,
                "state": "failed",
                "outcome": "dead_lettered",
                "failure_reason": reason[:1000],
                "completed_at": moment,
                "expires_at": moment + dt.timedelta(days=RETENTION_DAYS),
            },
            merge=True,
        )

    def release(self) -> None:
        """Give the claim up (transient failure) so the next delivery may claim it."""
        from google.cloud import firestore

        client = clients.firestore_client()
        reference = self.reference

        @firestore.transactional
        def drop(transaction: Any) -> None:
            snapshot = reference.get(transaction=transaction)
            if snapshot.exists and (snapshot.to_dict() or {}).get("token") == self.token:
                transaction.delete(reference)

        drop(client.transaction(max_attempts=3))
