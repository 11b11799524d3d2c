"""In-memory limits of one gateway instance: token buckets and Idempotency-Key memory.

The gateway keeps no durable state (no Firestore): these hold per instance, so the
fleet-wide ceiling is the limit times the instances serving (Cloud Run's max instances).
The durable, fleet-wide ceiling on SMS is the notifier's per-phone limit. Both tables are
bounded (least recently used entries are dropped first), so hostile keys cannot grow
memory without limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

MAX_ENTRIES = 10_000


class RateLimiter:
    """Token buckets by key: ``capacity`` requests at once, refilled at ``per_second``."""

    def __init__(
        self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def take(self, key: str, capacity: float, per_second: float) -> int | None:
        """None when admitted (one token taken), else the seconds to wait (Retry-After)."""
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(key, (capacity, now))
            tokens = min(capacity, tokens + (now - stamp) * per_second)
            admitted = tokens >= 1
            if admitted:
                tokens -= 1
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        if admitted:
            return None
        return max(1, math.ceil((1 - tokens) / per_second))

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


Seen = Literal["new", "same", "conflict"]


class IdempotencyMemory:
    """Which body each Idempotency-Key came with, for ``ttl`` seconds (like Stripe's 24 h)."""

    def __init__(
        self,
        ttl: float = 86_400,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def seen(self, key: str, fingerprint: str) -> Seen:
        """Whether ``key`` came before, with this body or another (nothing is stored)."""
        now = self._clock()
        with self._lock:
            found = self._seen.get(key)
            if found is None or now - found[1] >= self._ttl:
                return "new"
            self._seen.move_to_end(key)
            return "same" if found[0] == fingerprint else "conflict"

    def remember(self, key: str, fingerprint: str) -> None:
        """Record ``key`` with its body (once a request with it was admitted)."""
        now = self._clock()
        with self._lock:
            if key not in self._seen:
                self._seen[key] = (fingerprint, now)
            self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
