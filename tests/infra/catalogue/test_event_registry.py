"""The catalogue's event types are held to the contract's registry when it loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.catalogue import CatalogueError, load_catalogue
from tests.infra.conftest import Editor

REGISTRY = "functions/shared/switchboard_contract/event_types.py"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(root)
    return [str(p) for p in caught.value.problems]


def test_an_event_type_the_registry_lacks_is_refused_naming_file_and_field(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    edit_yaml("catalogue.yaml", lambda doc: doc["topics"]["inbound"]["event_types"].append("sms.x"))
    assert problems_of(functions_copy) == [
        "functions/catalogue.yaml: topics.inbound.event_types[1]: event type 'sms.x' is not in "
        f"the event-type registry ({REGISTRY}); declare it there, with its model in "
        "switchboard_runtime/events.py"
    ]


def test_a_type_on_another_topic_and_a_type_no_topic_declares_are_refused(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    def move_tick(doc: dict) -> None:
        doc["topics"]["ticks"]["event_types"] = ["sms.received"]
        doc["topics"]["inbound"]["event_types"] = ["tick"]

    edit_yaml("catalogue.yaml", move_tick)
    problems = problems_of(functions_copy)
    assert (
        "functions/catalogue.yaml: topics.inbound.event_types[0]: event type 'tick' travels on "
        f"topic 'ticks' in the event-type registry ({REGISTRY})"
    ) in problems
    edit_yaml("catalogue.yaml", lambda doc: doc["topics"]["inbound"].update(event_types=["x.y"]))
    assert (
        f"functions/catalogue.yaml: topics: the event-type registry ({REGISTRY}) declares tick, "
        "which no topic's event_types lists"
    ) in problems_of(functions_copy)


def test_the_fleet_is_held_to_its_own_registry(functions_copy: Path) -> None:
    registry = functions_copy / "shared" / "switchboard_contract" / "event_types.py"
    registry.write_text(
        registry.read_text().replace(
            'EventType("tick", "ticks"),',
            'EventType("tick", "ticks"),\n        EventType("sms.sent", "inbound"),',
        )
    )
    assert problems_of(functions_copy) == [
        f"functions/catalogue.yaml: topics: the event-type registry ({REGISTRY}) declares "
        "sms.sent, which no topic's event_types lists"
    ]


def test_a_fleet_without_the_contract_declares_its_types_freely(
    edit_yaml: Editor, functions_copy: Path
) -> None:
    shutil.rmtree(functions_copy / "shared" / "switchboard_contract")
    edit_yaml("catalogue.yaml", lambda doc: doc["topics"]["inbound"]["event_types"].append("sms.x"))
    assert "sms.x" in load_catalogue(functions_copy).topics["inbound"].event_types
