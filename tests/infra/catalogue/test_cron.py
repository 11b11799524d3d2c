"""Unix-cron expressions are range-checked field by field."""

from __future__ import annotations

import pytest

from infra.catalogue.cron import CronError, check_cron


@pytest.mark.parametrize(
    "expression",
    ["*/15 * * * *", "0 9 * * MON-FRI", "0 0 1 JAN,jul *", "5,35 8-18/2 * * 0", "0 0 * * 7"],
)
def test_valid_schedules_pass(expression: str) -> None:
    assert check_cron(expression) == expression


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("99 99 99 99 99", "minute 99 is outside 0-59"),
        ("*/0 * * * *", "minute step 0 must be between 1 and 60"),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("0 0 0 * *", "day of month 0 is outside 1-31"),
        ("0 0 * 13 *", "month 13 is outside 1-12"),
        ("0 0 * * 8", "day of week 8 is outside 0-7"),
        ("30-10 * * * *", "runs backwards"),
        ("0 0 * FOO *", "month 'FOO' is not a number or a name"),
        ("? * * * *", "is not *, N, N-M"),
        ("* * * *", "has 4 fields"),
        ("*" + " *" * 60, "is over 100 characters"),
    ],
)
def test_invalid_schedules_name_the_field(expression: str, says: str) -> None:
    with pytest.raises(CronError) as raised:
        check_cron(expression)
    assert says in str(raised.value)
