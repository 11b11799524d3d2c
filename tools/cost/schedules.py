"""How often a cron schedule fires in an average month (a non-leap year / 12).

Counts matching minutes day by day with the local platform's cron evaluator
(``localdev/cron.py``: the same semantics as Cloud Scheduler's unix-cron, including the
day-of-month OR day-of-week rule). Wall-clock time in the job's zone; a DST change moves
at most one hour's fires twice a year, which the average ignores.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from localdev.cron import CronError, parse_cron
from tools.cost.errors import CostInputError

REFERENCE_YEAR = 2025  # not a leap year: 365 days
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = 365 / MONTHS_PER_YEAR
SECONDS_PER_MONTH = DAYS_PER_MONTH * 86400


@lru_cache(maxsize=256)
def fires_per_month(expression: str) -> float:
    try:
        cron = parse_cron(expression)
    except CronError as error:
        raise CostInputError(f"schedule {expression!r}: {error}") from None
    per_day = len(cron.hours) * len(cron.minutes)
    day = date(REFERENCE_YEAR, 1, 1)
    fires = 0
    while day.year == REFERENCE_YEAR:
        weekday = day.isoweekday() % 7
        day_ok, weekday_ok = day.day in cron.days, weekday in cron.weekdays
        if cron.day_restricted and cron.weekday_restricted:
            matches = day_ok or weekday_ok
        else:
            matches = day_ok and weekday_ok
        if day.month in cron.months and matches:
            fires += per_day
        day += timedelta(days=1)
    return fires / MONTHS_PER_YEAR
