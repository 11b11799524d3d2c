"""The durable, fleet-wide ceiling on SMS per phone number (Firestore).

``sms_limits/{phone}``: ``sent`` (a map of notification event id -> when it was admitted,
only the last ``LONGEST_WINDOW``), ``updated_at``, ``expires_at`` (TTL). Admission is one
transaction: a notification already admitted is admitted again (a redelivery, a retry
after a crash), so it never counts twice; a new one is admitted only while every window
in ``LIMITS`` has room. Whatever the callers of the booking API do, one phone receives
at most ``LIMITS`` texts from the business's number.

Within one instance, admissions for the same phone take turns (one of ``LOCK_STRIPES``
locks, chosen by the phone): a flood to one phone otherwise runs that many transactions
on one document at once, and the losers abort and retry together (the Firestore
emulator answered ``ABORTED: Transaction lock timeout`` 67-71 times for 20 concurrent
texts on a loaded 2-core machine, and every delivery outlived its ack deadline). Across
instances the transaction alone keeps the count; a turn not had within
``LOCK_WAIT_SECONDS`` goes ahead without it.
"""

from __future__ import annotations

import datetime as dt
import threading
import zlib
from typing import Any

COLLECTION = "sms_limits"
LIMITS: tuple[tuple[int, dt.timedelta], ...] = (
    (5, dt.timedelta(hours=1)),
    (10, dt.timedelta(days=1)),
)
LONGEST_WINDOW = max(window for _, window in LIMITS)
LOCK_STRIPES = 64
LOCK_WAIT_SECONDS = 10.0
_LOCKS = tuple(threading.Lock() for _ in range(LOCK_STRIPES))


def lock_for(phone: str) -> threading.Lock:
    """The lock admissions for ``phone`` take turns on in this instance (a fixed set of
    locks, however many phones: memory stays bounded)."""
    return _LOCKS[zlib.crc32(phone.encode()) % LOCK_STRIPES]


def describe() -> str:
    return ", ".join(f"{count} per {_span(window)}" for count, window in LIMITS)


def _span(window: dt.timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} h"


def admit(client: Any, phone: str, event_id: str, now: dt.datetime | None = None) -> bool:
    """True when the SMS for ``event_id`` may be sent to ``phone`` (and it is counted)."""
    from google.cloud import firestore

    now = now or dt.datetime.now(dt.UTC)
    reference = client.collection(COLLECTION).document(phone)

    @firestore.transactional
    def decide(transaction: Any) -> bool:
        snapshot = reference.get(transaction=transaction)
        current = (snapshot.to_dict() or {}) if snapshot.exists else {}
        sent = {
            key: moment
            for key, moment in dict(current.get("sent") or {}).items()
            if isinstance(moment, dt.datetime) and now - moment < LONGEST_WINDOW
        }
        if event_id in sent:
            return True
        for count, window in LIMITS:
            if sum(1 for moment in sent.values() if now - moment < window) >= count:
                return False
        sent[event_id] = now
        transaction.set(
            reference,
            {"sent": sent, "updated_at": now, "expires_at": now + LONGEST_WINDOW},
        )
        return True

    lock = lock_for(phone)
    turn = lock.acquire(timeout=LOCK_WAIT_SECONDS)
    try:
        return bool(decide(client.transaction(max_attempts=5)))
    finally:
        if turn:
            lock.release()
