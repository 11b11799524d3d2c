"""A small unix-cron evaluator (five fields), enough to run Cloud Scheduler jobs locally.

Supports ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists, month and
weekday names, ``?`` as ``*``, and Sunday as 0 or 7. When both day-of-month and
day-of-week are restricted, a day matching either fires (classic cron semantics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        start=1,
    )
}
WEEKDAYS = {
    name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])
}
SEARCH_LIMIT = timedelta(days=366 * 5)


class CronError(ValueError):
    """A cron expression this evaluator cannot read."""


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        if not part:
            raise CronError(f"empty list item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"bad step in {part!r}")
            step = int(step_text)
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"{text!r} is not a number or a name")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    day_restricted: bool
    weekday_restricted: bool

    def _day_matches(self, moment: datetime) -> bool:
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def matches(self, moment: datetime) -> bool:
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and self._day_matches(moment)
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (aware datetimes keep their zone)."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + SEARCH_LIMIT
        while candidate < limit:
            if candidate.month not in self.months or not self._day_matches(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
                continue
            if candidate.minute in self.minutes:
                return candidate
            candidate += timedelta(minutes=1)
        raise CronError("the expression never fires")


def parse_cron(expression: str) -> Cron:
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} is not a five-field cron expression")
    minute, hour, day, month, weekday = fields
    weekdays = _parse_field(weekday, 0, 7, WEEKDAYS)
    if 7 in weekdays:
        weekdays = (weekdays - {7}) | {0}
    return Cron(
        minutes=_parse_field(minute, 0, 59, {}),
        hours=_parse_field(hour, 0, 23, {}),
        days=_parse_field(day, 1, 31, {}),
        months=_parse_field(month, 1, 12, MONTHS),
        weekdays=weekdays,
        day_restricted=day not in ("*", "?"),
        weekday_restricted=weekday not in ("*", "?"),
    )


def next_fire(expression: str, after: datetime, timezone: str = "Etc/UTC") -> datetime:
    """The next time (aware, in ``timezone``) the schedule fires after ``after`` (aware)."""
    zone = ZoneInfo(timezone)
    local = after.astimezone(zone).replace(tzinfo=None)
    return parse_cron(expression).next_after(local).replace(tzinfo=zone)
