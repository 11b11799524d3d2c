"""The compatibility gate of ``make diff``: each breaking schema change fails it, naming the
event type, the field and the consumers affected; an added optional field passes; a
breaking change passes as a new version readers learn before producers publish it.

The head side is a copy of ``functions/`` with ``events.py`` edited, generated in a
subprocess exactly as ``python -m tools.diff`` does for the working tree.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from infra.catalogue import FUNCTIONS_DIR
from tests.event_versions import declare_cancelled_v2
from tools.diff.__main__ import main
from tools.diff.contracts import GATE_EXIT, Side, contract_diff, side_of_tree

EVENTS = Path("shared") / "switchboard_runtime" / "events.py"
CALENDAR = "    calendar_event_id: str = Field(min_length=5, max_length=1024)\n"
PURPOSE = (
    '    purpose: Literal["payment_link", "payment_receipt", "reminder", "rejection", "other"]\n'
)
CONFIRMED_PARTIES = "consumers affected: billing, ledger; producers: scheduler"

BREAKING = {
    "removed": (
        CALENDAR,
        "    pass\n",
        "booking.confirmed v1 field calendar_event_id: field removed or renamed",
        CONFIRMED_PARTIES,
    ),
    "renamed": (
        CALENDAR,
        CALENDAR.replace("calendar_event_id", "calendar_id"),
        "booking.confirmed v1 field calendar_event_id: field removed or renamed "
        "(gone from the schema; the same version adds calendar_id)",
        CONFIRMED_PARTIES,
    ),
    "type changed": (
        CALENDAR,
        "    calendar_event_id: int\n",
        "booking.confirmed v1 field calendar_event_id: type changed (string -> integer)",
        CONFIRMED_PARTIES,
    ),
    "required field added": (
        CALENDAR,
        CALENDAR + "    room: str\n",
        "booking.confirmed v1 field room: required field added",
        CONFIRMED_PARTIES,
    ),
    "enum narrowed": (
        PURPOSE,
        PURPOSE.replace(', "other"', ""),
        "notification.requested v1 field purpose: enum narrowed (no longer allows 'other')",
        "consumers affected: ledger, notifier; producers: billing, reminders",
    ),
    "bound tightened": (
        CALENDAR,
        CALENDAR.replace("1024", "512"),
        "booking.confirmed v1 field calendar_event_id: bound tightened (maxLength 1024 -> 512",
        CONFIRMED_PARTIES,
    ),
}


@functools.cache
def base_side() -> Side:
    return side_of_tree(FUNCTIONS_DIR, "base")


def edited(functions_copy: Path, old: str, new: str) -> Side:
    path = functions_copy / EVENTS
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return side_of_tree(functions_copy, "head")


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BREAKING))
def test_a_breaking_change_fails_the_gate_naming_type_field_and_consumers(
    case: str, functions_copy: Path
) -> None:
    old, new, expected, parties = BREAKING[case]
    diff = contract_diff(base_side(), edited(functions_copy, old, new))
    assert diff.failed
    lines = [diff.describe(c) for c in diff.verdict.breaking]
    assert any(expected in line and parties in line for line in lines), lines


def test_an_added_optional_field_passes(functions_copy: Path) -> None:
    diff = contract_diff(
        base_side(), edited(functions_copy, CALENDAR, CALENDAR + "    room: str | None = None\n")
    )
    assert not diff.failed
    (change,) = diff.verdict.changes
    assert (change.event_type, change.field, change.kind) == (
        "booking.confirmed",
        "room",
        "optional field added",
    )


def with_v2(functions_copy: Path, publishes: int) -> Side:
    declare_cancelled_v2(functions_copy, publishes)
    return side_of_tree(functions_copy, "head")


def test_a_rename_as_a_new_version_readers_learn_first_passes_and_says_what_to_deploy(
    functions_copy: Path,
) -> None:
    diff = contract_diff(base_side(), with_v2(functions_copy, publishes=1))
    assert not diff.failed, [diff.describe(c) for c in diff.verdict.breaking]
    (note,) = diff.verdict.deploy_first
    assert "booking.cancelled: deploy this change (consumers learn v2)" in note


def test_publishing_a_version_in_the_change_that_introduces_it_fails(
    functions_copy: Path,
) -> None:
    diff = contract_diff(base_side(), with_v2(functions_copy, publishes=2))
    assert diff.failed
    (breaking,) = diff.verdict.breaking
    assert breaking.kind == "published before readers know it"
    assert "consumers affected: ledger, scheduler" in diff.describe(breaking)


@pytest.mark.slow
def test_switching_producers_after_readers_learned_the_version_passes(
    functions_copy: Path,
) -> None:
    readers = with_v2(functions_copy, publishes=1)
    events = functions_copy / EVENTS
    events.write_text(events.read_text().replace("publishes=1", "publishes=2"))
    diff = contract_diff(readers, side_of_tree(functions_copy, "head"))
    assert not diff.failed
    (note,) = diff.verdict.deploy_first
    assert "producers switch v1 -> v2; every consumer at the base revision already reads v2" in (
        note
    )


@pytest.mark.slow
def test_the_cli_exits_3_on_a_breaking_change_and_0_on_an_additive_one(
    functions_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = functions_copy / EVENTS
    original = events.read_text()
    events.write_text(original.replace(CALENDAR, CALENDAR + "    room: str | None = None\n"))
    assert main(["--contracts-only", "--functions-root", str(functions_copy)]) == 0
    assert "ok booking.confirmed v1 field room: optional field added" in capsys.readouterr().out
    events.write_text(original.replace(CALENDAR, CALENDAR.replace("1024", "512")))
    assert main(["--contracts-only", "--functions-root", str(functions_copy)]) == GATE_EXIT
    out = capsys.readouterr().out
    assert "!! booking.confirmed v1 field calendar_event_id: bound tightened" in out


def test_retiring_a_version_no_producer_publishes_passes_and_one_still_published_fails() -> None:
    from tools.schemas.compat import compare
    from tools.schemas.registry import TypeEntry

    schema = {"type": "object", "properties": {"booking_id": {"type": "string"}}}
    both = {"t": TypeEntry("x", 2, (1, 2), {1: schema, 2: schema})}
    retired = {"t": TypeEntry("x", 2, (2,), {2: schema})}
    verdict = compare(both, retired)
    assert verdict.breaking == []
    assert verdict.deploy_first[0].startswith("t: v1 retired: deploy once no v1 message")
    still_published = {"t": TypeEntry("x", 1, (1, 2), {1: schema, 2: schema})}
    (breaking,) = compare(still_published, retired).breaking
    assert (breaking.kind, breaking.version) == ("version retired while published", 1)
