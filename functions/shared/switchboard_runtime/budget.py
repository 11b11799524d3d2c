"""The time budget of one request: SWITCHBOARD_TIMEOUT_SECONDS minus elapsed minus a margin."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from switchboard_contract.environment import TIMEOUT_SECONDS

DEFAULT_TIMEOUT_SECONDS = 60.0
SAFETY_MARGIN_SECONDS = 3.0


def timeout_seconds() -> float:
    try:
        value = float(os.environ.get(TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS))
        return max(1.0, value)
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS


@dataclass
class Budget:
    """How much of the request's time is left for work (retries, third-party calls)."""

    total: float = field(default_factory=timeout_seconds)
    margin: float = SAFETY_MARGIN_SECONDS
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        """Seconds left before the safety margin (never negative)."""
        margin = min(self.margin, self.total / 4)
        return max(0.0, self.total - self.elapsed() - margin)

    def call_timeout(self, cap: float = 20.0, floor: float = 1.0) -> float:
        """A per-call network timeout that fits in what is left."""
        return max(floor, min(cap, self.remaining()))
