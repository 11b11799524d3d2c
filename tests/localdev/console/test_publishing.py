"""The publish form's starting data: a valid example of every event type."""

from __future__ import annotations

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from localdev.console.publishing import _registry, event_types


def test_the_form_starts_from_a_valid_example_of_every_event_type() -> None:
    registry = _registry()
    offered = event_types(load_catalogue(FUNCTIONS_DIR))
    assert {t["type"] for t in offered} == set(registry)  # every type the runtime knows
    for entry in offered:
        spec = registry[entry["type"]]
        assert entry["example"], entry["type"]
        spec.model.model_validate(entry["example"])  # raises, naming the field, if invalid
