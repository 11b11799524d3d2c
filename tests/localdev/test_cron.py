"""The cron evaluator behind local Cloud Scheduler ticks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from localdev.cron import CronError, next_fire, parse_cron


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", at(2026, 1, 1, 10, 7), at(2026, 1, 1, 10, 15)),
        ("*/15 * * * *", at(2026, 1, 1, 10, 15), at(2026, 1, 1, 10, 30)),
        ("*/15 * * * *", at(2026, 1, 1, 23, 59), at(2026, 1, 2, 0, 0)),
        ("0 9 * * MON-FRI", at(2026, 1, 2, 9, 0), at(2026, 1, 5, 9, 0)),  # Fri -> Mon
        ("30 2 1 * *", at(2026, 1, 15), at(2026, 2, 1, 2, 30)),
        ("0 0 29 2 *", at(2026, 3, 1), at(2028, 2, 29)),
        ("5,10 1-2 * * *", at(2026, 1, 1, 1, 7), at(2026, 1, 1, 1, 10)),
        ("0 12 * * 7", at(2026, 1, 1), at(2026, 1, 4, 12, 0)),  # 7 is Sunday
        ("0 0 1 * SUN", at(2026, 1, 2), at(2026, 1, 4)),  # day OR weekday
    ],
)
def test_next_fire(expression: str, after: datetime, expected: datetime) -> None:
    assert next_fire(expression, after) == expected


def test_next_fire_in_another_time_zone() -> None:
    fired = next_fire("0 9 * * *", at(2026, 7, 1, 0, 0), "Europe/London")
    assert fired.astimezone(UTC) == at(2026, 7, 1, 8, 0)


@pytest.mark.parametrize(
    "expression", ["* * * *", "61 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"]
)
def test_bad_expressions(expression: str) -> None:
    with pytest.raises(CronError):
        parse_cron(expression)
