"""Jittered exponential backoff for transient third-party calls, inside the time budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from switchboard_runtime.budget import Budget
from switchboard_runtime.errors import classify, is_transient

T = TypeVar("T")

INITIAL_WAIT = 0.2
MAX_WAIT = 8.0
MAX_ATTEMPTS = 8


def call_with_retry(
    fn: Callable[[], T],
    budget: Budget,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    initial: float = INITIAL_WAIT,
    maximum: float = MAX_WAIT,
) -> T:
    """Call ``fn``; retry transient failures with full-jitter backoff while time allows.

    Stops when the next sleep would not fit in ``budget.remaining()``; then the last
    error is raised, classified (a :class:`TransientError` makes the handler nack, so
    Pub/Sub retries later with its own backoff). Permanent errors are raised at once.
    """
    import tenacity

    def out_of_time(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= max_attempts:
            return True
        upcoming = state.upcoming_sleep or 0.0
        retry_after = _retry_after(state.outcome.exception() if state.outcome else None)
        return max(upcoming, retry_after) >= budget.remaining()

    def wait(state: tenacity.RetryCallState) -> float:
        base = tenacity.wait_random_exponential(multiplier=initial, max=maximum)(state)
        exc = state.outcome.exception() if state.outcome else None
        return max(base, _retry_after(exc))

    def retryable(exc: BaseException) -> bool:
        # Only errors: SystemExit, KeyboardInterrupt and the like end the request at once.
        return isinstance(exc, Exception) and is_transient(exc)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retryable),
        wait=wait,
        stop=out_of_time,
        reraise=True,
    )
    try:
        return retrying(fn)
    except Exception as exc:
        verdict = classify(exc)
        if verdict is exc:
            raise
        raise verdict from exc


def _retry_after(exc: BaseException | None) -> float:
    """A provider's Retry-After header in seconds, when the exception carries one."""
    if exc is None:
        return 0.0
    headers = getattr(exc, "headers", None) or {}
    value = None
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        return 0.0
    try:
        return min(float(value), MAX_WAIT) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
