"""A second version of ``booking.cancelled`` written into a copy of the runtime's
``events.py``: the reason renamed to ``why`` (v1 upgraded on read). Used by the
compatibility gate's tests and by the local-platform rollout test."""

from __future__ import annotations

V2 = """

class BookingCancelledV2(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    why: str | None = Field(default=None, max_length=500)


def _reason_to_why(data: dict[str, Any]) -> dict[str, Any]:
    return {("why" if k == "reason" else k): v for k, v in data.items()}
"""
ONE = '        one_version("booking.cancelled", "bookings", BookingCancelled),\n'
TWO = """        EventSpec(
            "booking.cancelled",
            "bookings",
            (Version(1, BookingCancelled, _reason_to_why), Version(2, BookingCancelledV2)),
            publishes={publishes},
        ),
"""
MARKER = "\n\nclass BookingConfirmed("


def with_cancelled_v2(events_source: str, publishes: int) -> str:
    """``events.py`` with v2 of booking.cancelled declared; producers publish ``publishes``."""
    if MARKER not in events_source or ONE not in events_source:
        raise AssertionError("events.py no longer has the shape this example edits")
    return events_source.replace(MARKER, V2 + MARKER).replace(ONE, TWO.format(publishes=publishes))
