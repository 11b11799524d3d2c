"""The retry policy's backoff: how long Pub/Sub waits before redelivering a failed message.

Pub/Sub's exponential backoff starts at ``minimum_backoff`` after the first failure and
roughly doubles per consecutive failure, capped at ``maximum_backoff``. The local platform
applies it exactly (no jitter), so what a developer sees is predictable.
"""

from __future__ import annotations

import math


def backoff_seconds(failed_attempt: int, minimum: float, maximum: float) -> float:
    """Delay before the redelivery that follows failed delivery attempt ``failed_attempt``.

    Attempt 1 failed -> ``minimum``; attempt 2 -> ``2 * minimum``; ... never above ``maximum``.
    """
    if failed_attempt < 1:
        raise ValueError(f"delivery attempts count from 1, got {failed_attempt}")
    if minimum < 0 or maximum < minimum:
        raise ValueError(f"need 0 <= minimum <= maximum, got {minimum}..{maximum}")
    exponent = min(failed_attempt - 1, 64)
    return min(maximum, minimum * math.pow(2, exponent))


def schedule(minimum: float, maximum: float, attempts: int) -> list[float]:
    """The delays after each of ``attempts - 1`` failures (the last failure dead-letters)."""
    return [backoff_seconds(n, minimum, maximum) for n in range(1, attempts)]
