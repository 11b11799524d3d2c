"""Firestore writes a handler hands to the runtime, committed with its claim in one commit.

A handler stages its Firestore side effects on ``ctx.writes`` instead of writing them
itself; the runtime adds the claim's final state and commits everything in one atomic
batch (``idempotency.Claim.commit`` / ``Claim.complete``)::

    snapshot = ctx.writes.read(booking_ref)           # a read the commit depends on
    ctx.writes.merge(booking_ref, fields, since=snapshot)
    ctx.writes.set(entry_ref, entry)

- ``create(ref, data)``: the document must not exist (else the commit fails).
- ``set(ref, data, merge=False)``: a blind write.
- ``merge(ref, fields, since=snapshot)``: a read-modify-write. ``fields`` are merged into
  the document ``snapshot`` was read from, on condition that it has not changed since
  (``create`` if it did not exist, ``update`` with ``last_update_time`` otherwise). Keys
  are top-level field names (no dots).
- ``read(ref)``: ``ref.get()``, for the reads a ``merge`` is based on.

When a precondition fails (another event changed a document after the handler read it)
nothing of the batch is applied and the runtime runs the handler again, up to
``MAX_RUNS`` times, on fresh reads: an optimistic transaction in one round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard_runtime.errors import PermanentError

MAX_WRITES = 400
"""Firestore allows 500 writes per commit; the claim and headroom take the rest."""
MAX_RUNS = 5
"""How many times a handler is run when its staged reads went stale before the commit."""

Stage = Callable[[Any], None]
"""Adds one write to a ``WriteBatch`` or ``Transaction`` (both have the same methods)."""


class TooManyWritesError(PermanentError):
    """A handler staged more than ``MAX_WRITES`` writes for one event: dead-lettered,
    since the same event stages as many again on every delivery."""


def _encoding() -> Any:
    """``write_encoding``, imported on first use: it pulls in the Firestore SDK."""
    from switchboard_runtime import write_encoding

    return write_encoding


@dataclass
class Writes:
    """The Firestore writes staged by one run of a handler (empty: nothing to add)."""

    staged: list[Stage] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.staged)

    def _add(self, stage: Stage) -> None:
        if len(self.staged) >= MAX_WRITES:
            raise TooManyWritesError(f"more than {MAX_WRITES} staged writes for one event")
        self.staged.append(stage)

    def read(self, reference: Any) -> Any:
        """The document's snapshot now: pass it as ``since`` to ``merge``."""
        return reference.get()

    def create(self, reference: Any, data: dict[str, Any]) -> None:
        self._add(lambda batch: _encoding().create(batch, reference, data))

    def set(self, reference: Any, data: dict[str, Any], *, merge: bool = False) -> None:
        if merge:
            self._add(lambda batch: batch.set(reference, data, merge=True))
        else:
            self._add(lambda batch: _encoding().set(batch, reference, data))

    def merge(self, reference: Any, fields: dict[str, Any], *, since: Any) -> None:
        """Merge ``fields`` into the document, if it is still as ``since`` saw it."""
        if any("." in name for name in fields):
            raise ValueError("merge() takes top-level field names only")
        if not since.exists:
            self._add(lambda batch: _encoding().create(batch, reference, fields))
            return
        updated = since.update_time
        self._add(lambda batch: _encoding().update(batch, reference, fields, updated))

    def apply(self, batch: Any) -> None:
        """Add every staged write to ``batch`` (a ``WriteBatch`` or a ``Transaction``)."""
        for stage in self.staged:
            stage(batch)
