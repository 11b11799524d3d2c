"""Firestore writes encoded with the official SDK's raw protobuf classes, on the hot path.

Every message writes its claim (``idempotency.py``) and most stage a write or two
(``writes.py``). The SDK builds each ``Write`` through proto-plus wrappers, about 350 µs
for the claim's ten fields on the 2-core bench machine; the same ``Write`` built here with
the underlying protobuf classes (``Write.pb()``, from ``google-cloud-firestore`` itself)
takes a fraction of that (``docs/performance.md``).

``create``, ``set`` and ``update`` add to a batch (or transaction) exactly the ``Write``
that ``batch.create()``, ``batch.set()`` and ``batch.update(option=last_update_time)``
would add. Data the fast path does not cover is handed to those very SDK calls: values
other than ``None``, ``bool``, ``int`` (64-bit), ``float``, ``str``, ``bytes``,
timezone-aware ``datetime``, lists/tuples of those and non-empty maps with string keys
(so sentinels such as ``SERVER_TIMESTAMP``, references, GeoPoints, sets and naive
datetimes), an empty document, and ``update`` field names that would need quoting.

``tests/functions/runtime/test_write_encoding.py`` checks, byte for byte and on generated
data, that both paths put the same ``Write`` in the batch. Two SDK internals are used,
``DocumentReference._document_path`` and ``BaseBatch._add_write_pbs`` (the call every
``batch.create()``/``set()``/``update()`` ends in); the SDK version is pinned
(``functions/requirements.lock``) and that test fails if either changes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud.firestore_v1.types import write
from proto.datetime_helpers import DatetimeWithNanoseconds as ProtoDatetimeWithNanoseconds

_WRITE = write.Write.pb()
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EXACT_SECONDS = 2**53 // 10**6
_SIMPLE_FIELD = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
"""A field name the SDK sends unquoted in an update mask."""


class _NotCoveredError(Exception):
    """A value the fast path does not encode: the SDK's own call takes the write."""


def create(batch: Any, reference: Any, data: dict[str, Any]) -> None:
    """``batch.create(reference, data)``: the document must not exist."""
    pb = _document_write(reference, data)
    if pb is None:
        batch.create(reference, data)
        return
    pb.current_document.exists = False
    batch._add_write_pbs([write.Write.wrap(pb)])


def set(batch: Any, reference: Any, data: dict[str, Any]) -> None:
    """``batch.set(reference, data)``: replaces the document."""
    pb = _document_write(reference, data)
    if pb is None:
        batch.set(reference, data)
        return
    batch._add_write_pbs([write.Write.wrap(pb)])


def update(batch: Any, reference: Any, data: dict[str, Any], last_update_time: Any) -> None:
    """``batch.update(reference, data, option=write_option(last_update_time=...))``: only
    ``data``'s top-level fields change, on condition the document is unchanged."""
    pb = None
    if all(type(name) is str and _SIMPLE_FIELD.fullmatch(name) for name in data):
        pb = _document_write(reference, data)
    if pb is None:
        option = batch._client.write_option(last_update_time=last_update_time)
        batch.update(reference, data, option=option)
        return
    pb.update_mask.field_paths.extend(sorted(data))
    _precondition_timestamp(pb.current_document.update_time, last_update_time)
    batch._add_write_pbs([write.Write.wrap(pb)])


def _document_write(reference: Any, data: dict[str, Any]) -> Any:
    """A ``Write`` protobuf updating the whole of ``data``, or None (not covered)."""
    if type(data) is not dict or not data:
        return None
    pb = _WRITE()
    pb.update.name = reference._document_path
    try:
        _fill_map(pb.update.fields, data)
    except _NotCoveredError:
        return None
    return pb


def _fill_map(fields: Any, data: dict[Any, Any]) -> None:
    for name, value in data.items():
        if type(name) is not str or not name:
            raise _NotCoveredError
        _fill_value(fields[name], value)


def _fill_value(slot: Any, value: Any) -> None:  # noqa: PLR0912 - one branch per type
    kind = type(value)
    if kind is str:
        slot.string_value = value
    elif kind is int:
        if not _INT64[0] <= value <= _INT64[1]:
            raise _NotCoveredError
        slot.integer_value = value
    elif kind is bool:
        slot.boolean_value = value
    elif kind is float:
        slot.double_value = value
    elif value is None:
        slot.null_value = 0
    elif kind is dt.datetime:
        if value.tzinfo is None:
            raise _NotCoveredError
        _field_timestamp(slot.timestamp_value, value)
    elif kind is DatetimeWithNanoseconds:
        slot.timestamp_value.CopyFrom(value.timestamp_pb())
    elif kind is bytes:
        slot.bytes_value = value
    elif kind is dict:
        if not value:
            raise _NotCoveredError
        _fill_map(slot.map_value.fields, value)
    elif kind is list or kind is tuple:
        array = slot.array_value
        array.SetInParent()
        for element in value:
            if type(element) in (list, tuple):
                raise _NotCoveredError  # arrays of arrays: the SDK's call decides
            _fill_value(array.values.add(), element)
    else:
        raise _NotCoveredError


def _field_timestamp(target: Any, moment: dt.datetime) -> None:
    """As the SDK's ``_datetime_to_pb_timestamp`` encodes a field value: it computes
    ``int(calendar.timegm(...) * 1e6)`` in floating point, which is exact while the
    product stays below 2**53 (before the year 2255); beyond that its formula is used."""
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    if abs(seconds) < _EXACT_SECONDS:
        target.seconds = seconds
        target.nanos = delta.microseconds * 1000
        return
    utc = moment.astimezone(dt.UTC)
    micros = int(calendar.timegm(utc.timetuple()) * 1e6) + utc.microsecond
    target.seconds, remainder = divmod(micros, 10**6)
    target.nanos = remainder * 1000


def _precondition_timestamp(target: Any, moment: dt.datetime) -> None:
    """As proto-plus marshals the ``update_time`` of the SDK's ``Precondition``: the
    nanoseconds of an ``update_time`` read back from Firestore are kept."""
    if type(moment) is ProtoDatetimeWithNanoseconds:
        target.CopyFrom(moment.timestamp_pb())
        return
    target.seconds = int(moment.timestamp())
    target.nanos = moment.microsecond * 1000


__all__ = ["create", "set", "update"]
