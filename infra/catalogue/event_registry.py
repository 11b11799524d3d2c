"""The catalogue's event types against the contract's registry, checked by loading.

A fleet whose ``shared/`` folder carries the contract (``switchboard_contract/
event_types.py``: the repository's, or a copy of it) must declare in ``catalogue.yaml``
exactly the registry's event types, each on the registry's topic; the loader reports
every difference naming the file and field. The registry is read from the fleet being
loaded (by file: it is standard-library code), so a copy of ``functions/`` is held to its
own registry. A fleet without the contract (a test fleet whose agents use no runtime)
declares its event types freely.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infra.catalogue.errors import Problem, display_path
from infra.catalogue.model import TopicSpec

REGISTRY_FILE = Path("shared") / "switchboard_contract" / "event_types.py"


def registry_of(root: Path) -> tuple[str, Mapping[str, Any]] | None:
    """The fleet's registry file (relative, for messages) and its ``EVENT_TYPES``, or None
    when the fleet has no contract."""
    path = root / REGISTRY_FILE
    if not path.is_file():
        return None
    name = f"_switchboard_event_types_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return display_path(path, root), module.EVENT_TYPES


def registry_problems(
    topics: Mapping[str, TopicSpec],
    catalogue_file: str,
    registry_file: str,
    registry: Mapping[str, Any],
) -> Iterator[Problem]:
    """Every event type the catalogue declares that the registry lacks or puts on another
    topic, and every registry type no topic declares."""
    declared = set()
    for topic_name, topic in topics.items():
        for index, event_type in enumerate(topic.event_types):
            declared.add(event_type)
            field = f"topics.{topic_name}.event_types[{index}]"
            known = registry.get(event_type)
            if known is None:
                yield Problem(
                    catalogue_file,
                    field,
                    f"event type {event_type!r} is not in the event-type registry "
                    f"({registry_file}); declare it there, with its model in "
                    "switchboard_runtime/events.py",
                )
            elif known.topic != topic_name:
                yield Problem(
                    catalogue_file,
                    field,
                    f"event type {event_type!r} travels on topic {known.topic!r} in the "
                    f"event-type registry ({registry_file})",
                )
    missing = sorted(set(registry) - declared)
    if missing:
        yield Problem(
            catalogue_file,
            "topics",
            f"the event-type registry ({registry_file}) declares {', '.join(missing)}, which "
            "no topic's event_types lists",
        )
