"""Claims on the Firestore emulator: one winner, and a terminal state never moves backwards."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
from switchboard_runtime import clients
from switchboard_runtime import idempotency as idem
from switchboard_runtime.errors import PermanentError
from switchboard_runtime.writes import Writes

from tests.functions.harness import Harness, together

pytestmark = pytest.mark.emulator
PROJECT = "demo-idempotency-tests"
AGENT = "ledger"


@pytest.fixture(scope="module")
def harness(emulators: Any, sandbox_server: Any) -> Harness:
    return Harness.started(emulators, sandbox_server, PROJECT, AGENT, consumes=("bookings",))


@pytest.fixture(autouse=True)
def platform(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Harness:
    return harness.activate(monkeypatch)


def claim(event_id: str = "evt-1", *, redrive: bool = False) -> idem.Claim:
    return idem.Claim(AGENT, event_id, "booking.requested", redrive=redrive)


def state(platform: Harness, event_id: str = "evt-1") -> str | None:
    document = platform.claim_doc(event_id)
    return document["state"] if document else None


def test_concurrent_deliveries_have_exactly_one_winner(platform: Harness) -> None:
    claims = [claim() for _ in range(8)]
    results = together([c.acquire for c in claims])
    assert results.count(idem.ClaimResult.CLAIMED) == 1
    assert set(results) <= {idem.ClaimResult.CLAIMED, idem.ClaimResult.BUSY}
    winner = claims[results.index(idem.ClaimResult.CLAIMED)]
    assert platform.claim_doc("evt-1")["token"] == winner.token


def test_done_is_final_for_failures_of_other_deliveries(platform: Harness) -> None:
    holder = claim()
    assert holder.acquire() is idem.ClaimResult.CLAIMED
    assert holder.complete("recorded") is True
    stranger = claim()
    assert stranger.acquire() is idem.ClaimResult.DUPLICATE
    assert stranger.fail("a later malformed copy") is False
    assert holder.fail("the holder itself, late") is False
    document = platform.claim_doc("evt-1")
    assert document["state"] == "done" and document["outcome"] == "recorded"
    assert "failure_reason" not in document


def test_a_redrive_never_reclaims_a_done_event(platform: Harness) -> None:
    holder = claim()
    holder.acquire()
    holder.complete()
    assert claim(redrive=True).acquire() is idem.ClaimResult.DUPLICATE
    assert state(platform) == "done"


def test_a_redrive_reclaims_a_failed_event(platform: Harness) -> None:
    holder = claim()
    holder.acquire()
    assert holder.fail("third party said 400") is True
    assert claim().acquire() is idem.ClaimResult.DUPLICATE
    redriven = claim(redrive=True)
    assert redriven.acquire() is idem.ClaimResult.TAKEN_OVER
    assert redriven.complete() is True
    assert state(platform) == "done"


def test_a_taken_over_holder_cannot_fail_the_new_holders_claim(platform: Harness) -> None:
    slow = claim()
    slow.acquire()
    platform.expire_lease("evt-1")
    fresh = claim()
    assert fresh.acquire() is idem.ClaimResult.TAKEN_OVER
    assert slow.fail("the slow holder gave up") is False
    assert state(platform) == "claimed"
    slow.release()  # not its claim any more: nothing happens
    assert platform.claim_doc("evt-1")["token"] == fresh.token
    assert fresh.complete() is True
    assert state(platform) == "done"


def test_racing_failures_never_overwrite_a_racing_completion(platform: Harness) -> None:
    for round_number in range(5):
        event_id = f"evt-race-{round_number}"
        holder = claim(event_id)
        holder.acquire()
        strangers = [claim(event_id) for _ in range(5)]
        for stranger in strangers:
            stranger.token = f"stale-{id(stranger)}"
        actions = [partial(holder.complete, "processed")]
        actions += [partial(stranger.fail, "stale") for stranger in strangers]
        results = together(actions)
        assert results[0] is True and not any(results[1:])
        assert state(platform, event_id) == "done"


def test_completion_and_failure_of_the_same_claim_race_to_one_terminal_state(
    platform: Harness,
) -> None:
    for round_number in range(5):
        event_id = f"evt-both-{round_number}"
        holder = claim(event_id)
        holder.acquire()
        completed, failed = together([holder.complete, partial(holder.fail, "boom")])
        final = state(platform, event_id)
        # Whatever the order, done is never followed by failed.
        assert completed is True
        assert final == "done"
        assert failed in (True, False)


def test_release_never_deletes_a_terminal_claim(platform: Harness) -> None:
    holder = claim()
    holder.acquire()
    holder.complete()
    holder.release()
    assert state(platform) == "done"


@pytest.mark.parametrize(
    "event_id", ["evt/a", "__x__", "x" * 1500, ".", "..", "", "evt a", "évt", "a\nb"]
)
def test_ids_firestore_would_reject_or_alias_are_permanent(event_id: str) -> None:
    with pytest.raises(PermanentError, match="event_id"):
        idem.doc_id(AGENT, event_id)


def test_ids_are_used_verbatim_and_never_alias(platform: Harness) -> None:
    assert idem.doc_id(AGENT, "evt_a") == "ledger:evt_a"
    assert claim("evt_a").acquire() is idem.ClaimResult.CLAIMED
    assert claim("evt-a").acquire() is idem.ClaimResult.CLAIMED
    assert claim("evt.a").acquire() is idem.ClaimResult.CLAIMED
    assert platform.claim_doc("evt_a")["event_id"] == "evt_a"


def test_lease_expiry_uses_the_claims_clock(platform: Harness) -> None:
    holder = claim()
    holder.acquire()
    lease = platform.claim_doc("evt-1")["lease_expires_at"]
    assert lease > dt.datetime.now(dt.UTC)
    assert claim().acquire() is idem.ClaimResult.BUSY


def bookkeeping(name: str) -> Writes:
    writes = Writes()
    reference = clients.firestore_client().collection("bookkeeping").document(name)
    writes.set(reference, {"by": name})
    return writes


def bookkept(platform: Harness) -> list[str]:
    return sorted(d.id for d in platform.firestore().collection("bookkeeping").stream())


def test_completion_commits_the_staged_writes_with_done(platform: Harness) -> None:
    holder = claim()
    assert holder.acquire() is idem.ClaimResult.CLAIMED
    assert holder.updated is not None  # complete()'s condition: our own write
    assert holder.complete("sent", bookkeeping("holder")) is True
    assert state(platform) == "done" and bookkept(platform) == ["holder"]


def test_a_taken_over_holder_completes_through_the_transaction(platform: Harness) -> None:
    slow = claim()
    slow.acquire()
    platform.expire_lease("evt-1")
    fresh = claim()
    assert fresh.acquire() is idem.ClaimResult.TAKEN_OVER
    assert fresh.complete("sent", bookkeeping("fresh")) is True
    # The slow holder's condition fails (the claim changed); done is final, and its
    # bookkeeping is not applied: the event's own completion already carried one.
    assert slow.complete("sent", bookkeeping("slow")) is False
    assert bookkept(platform) == ["fresh"]
    assert platform.claim_doc("evt-1")["token"] == fresh.token


def test_a_slow_holder_finishing_first_still_completes_once(platform: Harness) -> None:
    slow = claim()
    slow.acquire()
    platform.expire_lease("evt-1")
    fresh = claim()
    fresh.acquire()
    assert slow.complete("sent", bookkeeping("slow")) is True  # its side effects happened
    assert fresh.complete("sent", bookkeeping("fresh")) is False
    assert state(platform) == "done" and bookkept(platform) == ["slow"]
