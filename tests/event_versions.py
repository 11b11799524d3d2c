"""A second version of ``booking.cancelled`` written into a copy of the runtime's
``events.py`` (the reason renamed to ``why``, v1 upgraded on read) and of the contract's
registry (versions 1 and 2). Used by the compatibility gate's tests and by the
local-platform rollout test."""

from __future__ import annotations

from pathlib import Path

EVENTS = Path("shared") / "switchboard_runtime" / "events.py"
REGISTRY = Path("shared") / "switchboard_contract" / "event_types.py"
REGISTRY_ONE = 'EventType("booking.cancelled", "bookings"),'
REGISTRY_TWO = 'EventType("booking.cancelled", "bookings", (1, 2)),'

V2 = """

class BookingCancelledV2(Schema):
    booking_id: str = Field(pattern=BOOKING_ID)
    why: str | None = Field(default=None, max_length=500)


def _reason_to_why(data: dict[str, Any]) -> dict[str, Any]:
    return {("why" if k == "reason" else k): v for k, v in data.items()}
"""
ONE = '        one_version("booking.cancelled", BookingCancelled),\n'
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


def declare_cancelled_v2(functions: Path, publishes: int) -> None:
    """Declare v2 of booking.cancelled in the tree ``functions``: its model in ``events.py``
    and its version in the contract's registry (which ``events.py`` must agree with)."""
    events = functions / EVENTS
    events.write_text(with_cancelled_v2(events.read_text(), publishes))
    registry = functions / REGISTRY
    text = registry.read_text()
    if REGISTRY_ONE not in text:
        raise AssertionError("event_types.py no longer has the shape this example edits")
    registry.write_text(text.replace(REGISTRY_ONE, REGISTRY_TWO))
