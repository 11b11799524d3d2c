"""The notifier agent: one SMS per notification.requested, never two.

Firestore collection ``notifications/{event_id}`` (written here): ``state``
(``sending`` | ``sent`` | ``suppressed``), ``to``, ``purpose``, ``booking_id``,
``reference``, ``attempts``, ``attempt_at``, ``sid``, ``sent_at``, ``reason``,
``expires_at`` (TTL); and ``sms_limits/{phone}`` (``notifier_limits``).

Before anything is sent, the per-phone limit (``notifier_limits.LIMITS``: 5 per hour, 10
per day, durable and fleet-wide) admits the notification or not; one it refuses is
recorded as ``suppressed`` with the reason and acknowledged (outcome ``suppressed``), a
terminal state: a redelivery never sends it later.

Twilio has no idempotency key, so the notifier closes the gap itself:

1. If the record has a SID, the SMS was sent: done, nothing is sent again.
2. Before calling Twilio the record is set to ``sending`` with a unique ``reference``
   (derived from the event id), which is also written at the end of the SMS body
   ("Ref XXXXXXXX").
3. The SID is recorded before the event is completed.
4. On a redelivery that finds ``sending`` without a SID (a crash, a timeout or a lost
   response between steps 2 and 3), the messages sent to that number since the attempt
   are listed in Twilio and searched for the reference; if found, its SID is recorded
   and nothing is sent. The same lookup runs before any retry of an ambiguous failure
   (connection dropped, timeout) within one delivery.

What remains: a message Twilio accepted but does not list yet (its list is near real
time but not transactional), or a lookup answered from a stale replica, could be sent
twice; and a failure of the lookup itself is treated as transient (retry, no send), so
it delays rather than duplicates. Set the subscription's minimum backoff (10 s) above
Twilio's listing delay to keep that window small.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import functions_framework
import notifier_limits as limits
import notifier_twilio as twilio
from switchboard_runtime import Agent, Context

if TYPE_CHECKING:  # the models load on first use, not at import (switchboard_runtime.routes)
    from switchboard_runtime.events import NotificationRequested

COLLECTION = "notifications"
LOOKBACK = dt.timedelta(minutes=5)
RETENTION = dt.timedelta(days=90)

agent = Agent("notifier", secrets=("TWILIO_AUTH_TOKEN",), preload=(twilio.client,))


@agent.on("notification.requested")
def requested(ctx: Context[NotificationRequested]) -> str:
    note = ctx.data
    reference = ctx.derive_id("sms-reference").replace("-", "")[:8].upper()
    record = ctx.firestore().collection(COLLECTION).document(ctx.event.event_id)
    snapshot = ctx.retry(record.get)
    previous = (snapshot.to_dict() or {}) if snapshot.exists else {}
    if previous.get("sid"):
        return "already_sent"
    if previous.get("state") == "suppressed":
        return "suppressed"
    if previous.get("state") == "sending":
        since = previous.get("attempt_at", dt.datetime.now(dt.UTC)) - LOOKBACK
        sid = ctx.retry(lambda: twilio.find_sent(note.to, reference, since))
        if sid:
            ctx.retry(lambda: record.set(_sent(sid), merge=True))
            return "recovered"
    admitted = ctx.retry(lambda: limits.admit(ctx.firestore(), note.to, ctx.event.event_id))
    if not admitted:
        reason = f"per-phone SMS limit reached ({limits.describe()})"
        ctx.retry(lambda: record.set(_suppressed(note, reason), merge=True))
        ctx.log.warning(f"SMS suppressed: {reason}")
        return "suppressed"
    now = dt.datetime.now(dt.UTC)
    attempt = {
        "state": "sending",
        "to": note.to,
        "purpose": note.purpose,
        "booking_id": note.booking_id,
        "reference": reference,
        "attempts": int(previous.get("attempts", 0)) + 1,
        "attempt_at": now,
        "expires_at": now + RETENTION,
    }
    ctx.retry(lambda: record.set(attempt, merge=True))
    sid = ctx.retry(_sender(note.to, f"{note.body}\nRef {reference}", reference, now))
    ctx.retry(lambda: record.set(_sent(sid), merge=True))
    return "sent"


def _sender(to: str, body: str, reference: str, since: dt.datetime) -> Any:
    """One send attempt; after an ambiguous failure, look the message up before resending."""
    state = {"ambiguous": False}

    def attempt() -> str:
        if state["ambiguous"]:
            found = twilio.find_sent(to, reference, since - LOOKBACK)
            if found:
                return found
        try:
            return str(twilio.send(to, body).sid)
        except Exception as exc:
            state["ambiguous"] = state["ambiguous"] or twilio.is_ambiguous(exc)
            raise

    return attempt


def _suppressed(note: NotificationRequested, reason: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "state": "suppressed",
        "to": note.to,
        "purpose": note.purpose,
        "booking_id": note.booking_id,
        "reason": reason,
        "suppressed_at": now,
        "expires_at": now + RETENTION,
    }


def _sent(sid: str) -> dict[str, Any]:
    return {"state": "sent", "sid": sid, "sent_at": dt.datetime.now(dt.UTC)}


@functions_framework.http
def handle(request: Any) -> Any:
    return agent.handle(request)
