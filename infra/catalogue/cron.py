"""Check a five-field unix-cron expression (Cloud Scheduler's format) field by field.

Each field is a comma-separated list of ``*``, ``N``, ``N-M``, each optionally ``/STEP``;
months and weekdays may be named (``JAN``, ``MON``). Every number must lie in its field's
range and every step must be at least 1, so ``99 99 99 99 99`` and ``*/0`` are refused
here, not by Cloud Scheduler halfway through a deploy.
"""

from __future__ import annotations

import calendar
import re

MAX_CRON_CHARS = 100
FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, tuple(calendar.month_abbr)[1:]),
    ("day of week", 0, 7, ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")),
)
_ITEM = re.compile(
    r"(?P<range>\*|[0-9A-Za-z]{1,3}(?:-[0-9A-Za-z]{1,3})?)(?:/(?P<step>[0-9]{1,2}))?"
)


class CronError(ValueError):
    """Why the expression is not a valid unix-cron schedule."""


def check_cron(expression: str) -> str:
    """``expression`` unchanged, or CronError naming the field at fault."""
    if len(expression) > MAX_CRON_CHARS:
        raise CronError(f"is over {MAX_CRON_CHARS} characters")
    fields = expression.split()
    if len(fields) != len(FIELDS):
        raise CronError(f"has {len(fields)} fields; unix-cron has five (minute hour dom month dow)")
    for text, (name, low, high, names) in zip(fields, FIELDS, strict=True):
        for item in text.split(","):
            _check_item(item, name, low, high, names)
    return expression


def _check_item(item: str, name: str, low: int, high: int, names: tuple[str, ...]) -> None:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise CronError(f"{name} {item[:20]!r} is not *, N, N-M or one of those /STEP")
    step = match.group("step")
    if step is not None and not 1 <= int(step) <= high - low + 1:
        raise CronError(f"{name} step {step} must be between 1 and {high - low + 1}")
    bounds = match.group("range")
    if bounds == "*":
        return
    first, _, last = bounds.partition("-")
    start = _value(first, name, low, high, names)
    if last:
        end = _value(last, name, low, high, names)
        if end < start:
            raise CronError(f"{name} range {bounds!r} runs backwards")


def _value(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.isdigit():
        value = int(text)
    elif text.upper() in (upper := [n.upper() for n in names]):
        value = upper.index(text.upper()) + low
    else:
        raise CronError(f"{name} {text!r} is not a number{' or a name' if names else ''}")
    if not low <= value <= high:
        raise CronError(f"{name} {value} is outside {low}-{high}")
    return value
