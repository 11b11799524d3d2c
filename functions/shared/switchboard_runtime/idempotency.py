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

The event id is used verbatim (``envelope.check_event_id`` bounds it to 128 chars of
``[A-Za-z0-9._:-]`` starting with a letter or digit), so two ids never share a document
and Firestore never rejects one; agent names contain no ``:``, so ``<agent>:<event_id>``
is injective.

A claim is made with ``create()``, which fails with AlreadyExists when another delivery
made it first: that is the concurrency guard. A ``done``/``failed`` event is acked with no
side effect. A ``claimed`` one whose lease ran out (its holder crashed or timed out) is
taken over in a transaction; the handler then runs again and relies on the third party's
own idempotency (Stripe keys, Calendar event ids, the notifier's SID record) for side
effects that happened before the crash.

States only move forward: ``claimed -> done`` and ``claimed -> failed``, in transactions.
``done`` is final: nothing (a later malformed copy, a failure of a slower holder, a
redrive) ever changes it. ``fail()`` only moves the caller's own live claim (same token)
to ``failed``; ``complete()`` moves any state but ``done`` to ``done`` (the handler's side
effects did happen). A message that fails validation before it is claimed writes no
claim at all: its ``event_id`` is the sender's word, so it must not mark the id failed and
make a later valid copy a silent duplicate.

A redriven message (``redrive_target`` attribute, see ``tools/deadletters``) may re-claim a
``failed`` event: an operator fixed the cause and sent it back on purpose. A ``done`` event
stays done, so redriving something that did succeed still has no second side effect.

Round trips. A route with external effects (Stripe, Twilio, Calendar, Pub/Sub) pays two:
the ``create()`` of the claim, and ``complete()``, one batch that moves the claim to
``done`` on condition that it is unchanged since our own write (``last_update_time``),
together with the handler's staged bookkeeping writes (``writes.py``). The state is read
only on the error paths: after a failed ``create()`` (duplicate, busy or takeover) and when
that condition fails (taken over: then a transaction decides, as before).

A Firestore-only route (``effects="firestore"``) writes no claim before it runs: its staged
writes and the claim, created ``done``, are one batch (``commit()``), so a new event costs
one commit. A concurrent or later copy fails that batch on the claim's ``create()``
precondition and is answered from the claim it then reads (``duplicate``); no lease is
needed, since nothing is applied until the commit, and a crash before it leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import secrets
from dataclasses import dataclass, field
from typing import Any

from switchboard_contract import outcomes
from switchboard_contract.attributes import FAILURE_REASON

from switchboard_runtime import clients
from switchboard_runtime.budget import timeout_seconds
from switchboard_runtime.envelope import check_event_id
from switchboard_runtime.writes import Writes

COLLECTION = "processed_events"
LEASE_MARGIN_SECONDS = 30.0
RETENTION_DAYS = 30


class ClaimResult(enum.Enum):
    CLAIMED = "claimed"  # ours: run the handler
    TAKEN_OVER = "taken_over"  # ours, after a lease expired: run the handler again
    DUPLICATE = "duplicate"  # already done or failed: ack, no side effect
    BUSY = "busy"  # another delivery holds a live lease: retry later
    COMMITTED = "committed"  # a Firestore-only event: its writes and claim are committed
    STALE = "stale"  # a Firestore-only commit failed a precondition: run the handler again


def lease_seconds() -> float:
    """How long a claim is held: the request's timeout plus a margin."""
    return timeout_seconds() + LEASE_MARGIN_SECONDS


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@functools.lru_cache(maxsize=16)
def _claims(client: Any) -> Any:
    """The ``processed_events`` collection of ``client`` (built once per client)."""
    return client.collection(COLLECTION)


def doc_id(agent: str, event_id: str) -> str:
    """``<agent>:<event_id>``; PermanentError for an id Firestore would reject or alias."""
    return f"{agent}:{check_event_id(event_id)}"


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
    updated: Any = None
    """The claim's ``update_time`` after our own write of it: ``complete()``'s condition."""
    since: Any = None
    """Firestore-only: the claim's snapshot a re-run's commit must find unchanged."""
    _client: Any = field(default=None, init=False, repr=False, compare=False)
    _reference: Any = field(default=None, init=False, repr=False, compare=False)

    def _finished(self, current: dict[str, Any]) -> bool:
        state = current.get("state")
        return state == "done" or (state == "failed" and not self.redrive)

    @property
    def client(self) -> Any:
        """The Firestore client, looked up once per claim."""
        if self._client is None:
            self._client = clients.firestore_client()
        return self._client

    @property
    def reference(self) -> Any:
        """The claim's document (``processed_events/<agent>:<event_id>``)."""
        if self._reference is None:
            document_id = doc_id(self.agent, self.event_id)
            self._reference = _claims(self.client).document(document_id)
        return self._reference

    def acquire(self) -> ClaimResult:
        """Try to claim the event (see the module docstring)."""
        from google.api_core.exceptions import AlreadyExists

        from switchboard_runtime import write_encoding

        self.token = secrets.token_hex(8)
        moment = now()
        reference = self.reference
        batch = self.client.batch()
        write_encoding.create(batch, reference, self._claimed_fields(moment, attempts=1))
        try:
            [written] = batch.commit()
            self.updated = written.update_time
            self.result = ClaimResult.CLAIMED
            return self.result
        except AlreadyExists:
            pass
        # The common cases (done, or held by a live lease) need no transaction.
        snapshot = reference.get()
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

        client = self.client
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

    def _done_fields(self, outcome: str) -> dict[str, Any]:
        moment = now()
        return {
            "agent": self.agent,
            "event_id": self.event_id,
            "type": self.event_type,
            "state": "done",
            "outcome": outcome,
            "completed_at": moment,
            "token": self.token,
            "expires_at": moment + dt.timedelta(days=RETENTION_DAYS),
        }

    def complete(self, outcome: str = "processed", writes: Writes | None = None) -> bool:
        """Mark the event ``done`` (unless it already is), with the handler's staged
        ``writes`` in the same commit; True when this call did it.

        One batch when our claim is as we wrote it; a transaction otherwise (taken over,
        or no write of ours to compare with), which applies ``writes`` only if it moves
        the claim to ``done``.
        """
        from google.api_core.exceptions import FailedPrecondition, NotFound
        from google.cloud import firestore

        from switchboard_runtime import write_encoding

        client = self.client
        reference = self.reference
        if self.updated is not None:
            batch = client.batch()
            write_encoding.update(batch, reference, self._done_fields(outcome), self.updated)
            if writes is not None:
                writes.apply(batch)
            try:
                batch.commit()
                return True
            except (FailedPrecondition, NotFound):
                pass  # the claim changed since we wrote it: decide in a transaction

        @firestore.transactional
        def finish(transaction: Any) -> bool:
            snapshot = reference.get(transaction=transaction)
            current = (snapshot.to_dict() or {}) if snapshot.exists else {}
            if current.get("state") == "done":
                return False
            transaction.set(reference, self._done_fields(outcome), merge=True)
            if writes is not None:
                writes.apply(transaction)
            return True

        return finish(client.transaction(max_attempts=5))

    def commit(self, outcome: str, writes: Writes) -> ClaimResult:
        """Firestore-only: the claim, ``done``, and ``writes`` in one batch.

        The batch creates the claim (or, on a re-run, updates the claim snapshot
        ``self.since`` on condition that it is unchanged). COMMITTED when it applied;
        otherwise nothing applied and the claim, read now, says DUPLICATE (done, or
        failed and not redriven), BUSY (held by a live lease of another delivery) or
        STALE (run the handler again: a staged read went stale, or the claim may be
        taken over, ``self.since`` updated).
        """
        from google.api_core.exceptions import AlreadyExists, Conflict, FailedPrecondition, NotFound

        from switchboard_runtime import write_encoding

        reference = self.reference
        self.token = self.token or secrets.token_hex(8)
        fields = self._done_fields(outcome)
        batch = self.client.batch()
        if self.since is None:
            fields.update(attempts=1, claimed_at=fields["completed_at"])
            write_encoding.create(batch, reference, fields)
        else:
            current = self.since.to_dict() or {}
            self.attempts = int(current.get("attempts", 1)) + 1
            fields["attempts"] = self.attempts
            write_encoding.update(batch, reference, fields, self.since.update_time)
        writes.apply(batch)
        try:
            batch.commit()
            self.result = ClaimResult.COMMITTED
            return self.result
        except (AlreadyExists, Conflict, FailedPrecondition, NotFound):
            pass
        snapshot = reference.get()
        current = (snapshot.to_dict() or {}) if snapshot.exists else {}
        lease = current.get("lease_expires_at")
        if snapshot.exists and self._finished(current):
            self.result = ClaimResult.DUPLICATE
        elif current.get("state") == "claimed" and lease is not None and lease > now():
            self.result = ClaimResult.BUSY  # an external-effects holder of an older version
        else:
            self.since = snapshot if snapshot.exists else None
            self.result = ClaimResult.STALE
        return self.result

    def finished(self) -> bool:
        """Firestore-only, on a permanent failure: is the event already done, or failed
        (and this is no redrive)? Then it is a duplicate, not dead-lettered again."""
        snapshot = self.reference.get()
        return bool(snapshot.exists and self._finished(snapshot.to_dict() or {}))

    def record_failure(self, reason: str) -> bool:
        """Firestore-only: create the claim ``failed`` (nothing was claimed before); True
        if it did. An existing claim (done, or another delivery's) is left alone."""
        from google.api_core.exceptions import AlreadyExists

        moment = now()
        try:
            self.reference.create(
                {
                    "agent": self.agent,
                    "event_id": self.event_id,
                    "type": self.event_type,
                    "state": "failed",
                    "outcome": outcomes.RUNTIME_DEAD_LETTERED,
                    FAILURE_REASON: reason[:1000],
                    "token": self.token or secrets.token_hex(8),
                    "attempts": 1,
                    "claimed_at": moment,
                    "completed_at": moment,
                    "expires_at": moment + dt.timedelta(days=RETENTION_DAYS),
                }
            )
        except AlreadyExists:
            return False
        return True

    def fail(self, reason: str) -> bool:
        """Mark our own live claim ``failed`` (it has been dead-lettered); True if it did.

        A claim that is ``done``, or that another delivery has taken over, is left alone.
        """
        from google.cloud import firestore

        reference = self.reference

        @firestore.transactional
        def mark(transaction: Any) -> bool:
            snapshot = reference.get(transaction=transaction)
            current = (snapshot.to_dict() or {}) if snapshot.exists else {}
            if current.get("state") != "claimed" or current.get("token") != self.token:
                return False
            moment = now()
            transaction.update(
                reference,
                {
                    "state": "failed",
                    "outcome": outcomes.RUNTIME_DEAD_LETTERED,
                    FAILURE_REASON: reason[:1000],
                    "completed_at": moment,
                    "expires_at": moment + dt.timedelta(days=RETENTION_DAYS),
                },
            )
            return True

        return mark(self.client.transaction(max_attempts=5))

    def release(self) -> None:
        """Give the claim up (transient failure) so the next delivery may claim it."""
        from google.cloud import firestore

        client = self.client
        reference = self.reference

        @firestore.transactional
        def drop(transaction: Any) -> None:
            snapshot = reference.get(transaction=transaction)
            current = (snapshot.to_dict() or {}) if snapshot.exists else {}
            if current.get("state") == "claimed" and current.get("token") == self.token:
                transaction.delete(reference)

        drop(client.transaction(max_attempts=3))
