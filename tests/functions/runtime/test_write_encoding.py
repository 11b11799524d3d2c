"""The fast ``Write`` encoding puts exactly the SDK's own ``Write`` in the batch.

Offline: a client with anonymous credentials builds references and batches; nothing is
sent. Every call of ``write_encoding`` is compared, serialized byte for byte, with what the
SDK's ``batch.create()`` / ``batch.set()`` / ``batch.update(option=last_update_time)``
adds for the same data: the claim's documents, edge values, data the fast path hands to
the SDK, and generated documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proto.datetime_helpers import DatetimeWithNanoseconds as ProtoDatetimeWithNanoseconds
from switchboard_runtime import write_encoding
from switchboard_runtime.idempotency import Claim

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MOMENT = dt.datetime(2026, 12, 1, 17, 45, 12, 345678, tzinfo=dt.UTC)
API_NANOS = DatetimeWithNanoseconds(2026, 12, 1, 17, 45, 12, nanosecond=345678901, tzinfo=dt.UTC)
PROTO_NANOS = ProtoDatetimeWithNanoseconds(
    2026, 12, 1, 17, 45, 12, nanosecond=345678901, tzinfo=dt.UTC
)
UPDATE_TIMES = {"proto-nanoseconds": PROTO_NANOS, "api-nanoseconds": API_NANOS, "plain": MOMENT}

CLIENT = firestore.Client(project="demo-encoding", credentials=AnonymousCredentials())
REFERENCE = CLIENT.collection("processed_events").document("ledger:evt-1")


def claim() -> Claim:
    return Claim("ledger", "evt-1", "booking.cancelled", token="0123456789abcdef")


def claim_documents() -> list[dict[str, Any]]:
    """Every field set the runtime writes for a claim: new, completed, and a
    Firestore-only commit (new and re-run)."""
    done = claim()._done_fields("processed")
    return [
        claim()._claimed_fields(MOMENT, attempts=1),
        done,
        {**done, "attempts": 1, "claimed_at": done["completed_at"]},
        {**done, "attempts": 7},
    ]


COVERED = [
    *claim_documents(),
    {"s": "", "u": "ünïcødé ✓", "i": 0, "low": -(2**63), "high": 2**63 - 1},
    {"t": True, "f": False, "none": None, "x": 1.5, "nan": float("nan"), "b": b"\x00\xff"},
    {"before_epoch": dt.datetime(1960, 5, 4, 3, 2, 1, 999999, tzinfo=dt.UTC)},
    {"offset": dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5)))},
    {"far": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)},
    *(  # around where the SDK's floating-point formula stops being exact (year 2255)
        {"edge": EPOCH + dt.timedelta(seconds=sign * (2**53 // 10**6 + step), microseconds=999999)}
        for sign in (1, -1)
        for step in (-1, 0, 1)
    ),
    {"nanos": API_NANOS},
    {"nested": {"a": {"b": [1, "two", {"three": 3.0}]}, "c": ()}, "list": [None, True]},
    {"dotted.name": 1, "`tick`": 2, "spaced name": 3},
]
"""Data the fast path encodes itself."""

HANDED_TO_THE_SDK = [
    {},
    {"ts": firestore.SERVER_TIMESTAMP},
    {"nested": {"ts": firestore.SERVER_TIMESTAMP}},
    {"gone": firestore.DELETE_FIELD},
    {"ref": REFERENCE},
    {"where": firestore.GeoPoint(1.0, 2.0)},
    {"naive": dt.datetime(2026, 1, 1)},
    {"proto_nanos": PROTO_NANOS},
    {"a_set": {1}},
    {"nested_arrays": [[1]]},
    {"empty_map": {}},
    {"too_big": 2**63},
    {"": 1},
    {1: "non-string key"},
    {"inner": {"": 1}},
]
"""Data the fast path leaves to the SDK's own calls (which may refuse it)."""


def sdk_and_ours(method: str, data: dict[str, Any], updated: Any = MOMENT) -> tuple[Any, Any]:
    """(what the SDK's call put in a batch, or its exception; the same for ours)."""

    def run(fast: bool) -> Any:
        batch = CLIENT.batch()
        try:
            if method == "update" and fast:
                write_encoding.update(batch, REFERENCE, data, updated)
            elif method == "update":
                option = CLIENT.write_option(last_update_time=updated)
                batch.update(REFERENCE, data, option=option)
            elif fast:
                getattr(write_encoding, method)(batch, REFERENCE, data)
            else:
                getattr(batch, method)(REFERENCE, data)
        except Exception as exc:
            return type(exc), str(exc)
        return [type(w).pb(w).SerializeToString(deterministic=True) for w in batch._write_pbs]

    return run(fast=False), run(fast=True)


def stable_id(value: Any) -> str:
    """A test id from a document's field names, not its values: a claim document holds the
    time it was built, so ``repr`` ids differ between pytest-xdist's workers."""
    if isinstance(value, dict):
        return "fields:" + (",".join(sorted(map(str, value))) or "none")
    return str(value)


@pytest.mark.parametrize("method", ["create", "set", "update"])
@pytest.mark.parametrize("data", COVERED + HANDED_TO_THE_SDK, ids=stable_id)
def test_the_same_write_as_the_sdk(method: str, data: dict[str, Any]) -> None:
    sdk, ours = sdk_and_ours(method, data)
    assert ours == sdk


@pytest.mark.parametrize("updated", UPDATE_TIMES.values(), ids=UPDATE_TIMES.keys())
@pytest.mark.parametrize("data", claim_documents(), ids=range(len(claim_documents())))
def test_the_update_precondition_as_the_sdk(data: dict[str, Any], updated: Any) -> None:
    sdk, ours = sdk_and_ours("update", data, updated)
    assert ours == sdk


@pytest.mark.parametrize(
    ("method", "data"),
    [
        (method, data)
        for method in ("create", "set", "update")
        for data in COVERED
        # an update mask quotes such names: that update is the SDK's to encode
        if method != "update" or all(name.isidentifier() for name in data)
    ],
    ids=stable_id,
)
def test_covered_data_never_reaches_the_sdk_encoding(
    method: str, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The speed-up is real: covered data (the claim's above all) is not re-encoded by
    the SDK."""
    batch = CLIENT.batch()
    for name in ("create", "set", "update"):
        monkeypatch.setattr(batch, name, _refuse)
    if method == "update":
        write_encoding.update(batch, REFERENCE, data, MOMENT)
    else:
        getattr(write_encoding, method)(batch, REFERENCE, data)
    assert len(batch._write_pbs) == 1


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the SDK's encoding was used")


def test_a_transaction_takes_the_write_too() -> None:
    transaction = CLIENT.transaction()
    write_encoding.create(transaction, REFERENCE, {"state": "done"})
    batch = CLIENT.batch()
    batch.create(REFERENCE, {"state": "done"})
    assert transaction._write_pbs == batch._write_pbs


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]),
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.text(max_size=8), values, max_size=6)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["create", "set", "update"]), data=documents)
def test_generated_documents_as_the_sdk(method: str, data: dict[str, Any]) -> None:
    sdk, ours = sdk_and_ours(method, data)
    assert ours == sdk
