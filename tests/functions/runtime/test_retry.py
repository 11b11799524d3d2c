"""Backoff for transient calls, bounded by the request's time budget."""

from __future__ import annotations

import time

import pytest
import stripe
from switchboard_runtime.budget import Budget
from switchboard_runtime.errors import PermanentError, TransientError
from switchboard_runtime.publisher import ConfigurationError, dead_letter_topics, topic_id
from switchboard_runtime.retry import call_with_retry


def flaky(failures: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "ok"

    return calls, fn


def test_transient_errors_are_retried_until_success() -> None:
    calls, fn = flaky(
        [stripe.APIConnectionError("x"), stripe.RateLimitError("slow", http_status=429)]
    )
    assert call_with_retry(fn, Budget(total=20), initial=0.01) == "ok"
    assert len(calls) == 3


def test_permanent_errors_are_not_retried() -> None:
    calls, fn = flaky([stripe.InvalidRequestError("bad", "p", http_status=400)])
    with pytest.raises(PermanentError, match="stripe HTTP 400"):
        call_with_retry(fn, Budget(total=20))
    assert len(calls) == 1


def test_retries_stop_within_the_budget() -> None:
    calls, fn = flaky([TimeoutError("slow")] * 1000)
    started = time.monotonic()
    with pytest.raises(TransientError, match="network"):
        call_with_retry(fn, Budget(total=4, margin=1), initial=0.2, max_attempts=100)
    assert time.monotonic() - started < 3.5
    assert len(calls) >= 2


def test_retry_after_is_honoured() -> None:
    error = stripe.RateLimitError("slow", http_status=429, headers={"Retry-After": "0.5"})
    _calls, fn = flaky([error])
    started = time.monotonic()
    assert call_with_retry(fn, Budget(total=20), initial=0.001) == "ok"
    assert time.monotonic() - started >= 0.5


def test_base_exceptions_are_never_retried() -> None:
    calls, fn = flaky([SystemExit(1)])  # type: ignore[list-item]
    with pytest.raises(SystemExit):
        call_with_retry(fn, Budget(total=20))
    assert len(calls) == 1


def test_topics_and_dead_letters_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_TOPIC_BOOKINGS", "bookings-prod")
    monkeypatch.delenv("SWITCHBOARD_TOPIC_PAYMENTS", raising=False)
    assert topic_id("bookings") == "bookings-prod"
    with pytest.raises(ConfigurationError, match="SWITCHBOARD_TOPIC_PAYMENTS"):
        topic_id("payments")
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTERS", '{"billing-bookings": "billing-bookings-dl"}')
    assert dead_letter_topics() == {"billing-bookings": "billing-bookings-dl"}
    monkeypatch.setenv("SWITCHBOARD_DEAD_LETTERS", "[1]")
    with pytest.raises(ConfigurationError):
        dead_letter_topics()


def test_budget_leaves_a_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_TIMEOUT_SECONDS", "60")
    budget = Budget()
    assert 56 < budget.remaining() <= 57
    assert budget.call_timeout(cap=20) == 20
