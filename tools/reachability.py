"""Who publishes each event type, whose subscription receives it, who handles it.

Built from the catalogue and the agents' own code, nothing run:

- **publishers**: every ``publish(topic, "type", ...)`` / ``publish_event(topic, "type",
  ...)`` call with literal arguments in an agent's Python files (``ast``), plus Cloud
  Scheduler's ticks from each agent's ``schedule``;
- **receivers**: each subscription's deployed filter (the manifest's, with the redrive
  clause) evaluated by :mod:`infra.catalogue.filter_language` on the attributes a real
  publish carries: ``type``, ``event_id``, ``source`` (the agent), ``correlation_id``,
  ``causation_id`` (empty for an origin event: ``publish_event`` without a
  ``causation_id``), ``schema_version``; a tick
  carries ``type``, ``target`` and ``source=cloud-scheduler`` (``infra/scheduler/ticks.py``).
  Ids are placeholders: a filter on an id's value is judged on the placeholder;
- **handlers**: the event types of each agent's ``@agent.on(...)`` decorators (literals, or
  a module-level tuple of literals).

An **edge** (event type → agent) exists when some publisher's message of that type passes
one of the agent's subscription filters. ``make diff`` lists the edges gained and lost;
``make preflight`` (:mod:`tools.preflight.contracts`) fails on a type nobody receives and
on a filter that matches nothing published. ``python -m tools.reachability`` prints the
table: each type's publishers, the agents whose filters receive it, and its handlers.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_contract.attributes import TICK_SOURCE, TICK_TYPE

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from infra.catalogue.catalogue import effective_filter
from infra.catalogue.filter_language import matches
from tools.catalogue_errors import exits_on_catalogue_error

PUBLISH_CALLS = frozenset({"publish", "publish_event"})
SCHEDULER = TICK_SOURCE
TICK = TICK_TYPE
MAX_SOURCE_BYTES = 1024 * 1024  # an agent file larger than this is not scanned
PLACEHOLDER_ID = "00000000-0000-5000-8000-000000000000"


class ReachabilityError(ValueError):
    """An agent's code that cannot be read (names the file)."""


@dataclass(frozen=True, order=True)
class Publication:
    event_type: str
    topic: str
    publisher: str
    attributes: tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class Receiver:
    agent: str
    topic: str
    filter: str


@dataclass
class Reachability:
    topics: dict[str, tuple[str, ...]]  # topic -> event types
    terminal: frozenset[str]
    publications: list[Publication]
    receivers: list[Receiver]
    handlers: dict[str, frozenset[str]]  # agent -> event types routed
    edges: set[tuple[str, str]] = field(default_factory=set)  # (event type, agent)

    def publishers(self, event_type: str) -> list[str]:
        return sorted({p.publisher for p in self.publications if p.event_type == event_type})

    def receivers_of(self, event_type: str) -> list[str]:
        return sorted(agent for t, agent in self.edges if t == event_type)

    def handlers_of(self, event_type: str) -> list[str]:
        return sorted(a for a, types in self.handlers.items() if event_type in types)

    def event_types(self) -> list[str]:
        return sorted(t for types in self.topics.values() for t in types)


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _module_constants(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List):
            values = [_literal(e) for e in node.value.elts]
            if all(values):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = tuple(v for v in values if v)
    return found


def _routes(call: ast.Call, constants: dict[str, tuple[str, ...]]) -> Iterator[str]:
    for arg in call.args:
        inner = arg.value if isinstance(arg, ast.Starred) else arg
        if isinstance(inner, ast.Name):
            yield from constants.get(inner.id, ())
        elif (text := _literal(inner)) is not None:
            yield text


def scan_agent(folder: Path) -> tuple[set[tuple[str, str, bool]], set[str]]:
    """(topic, event type, origin) of every literal publish call (origin: no causing
    event), and every routed event type."""
    published: set[tuple[str, str, bool]] = set()
    routed: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        try:
            if path.stat().st_size > MAX_SOURCE_BYTES:
                raise ReachabilityError(f"{path}: larger than {MAX_SOURCE_BYTES} bytes")
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError) as error:
            raise ReachabilityError(f"{path}: cannot be read ({error})") from None
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _callee(node)
            if name in PUBLISH_CALLS and len(node.args) >= 2:
                topic, event_type = _literal(node.args[0]), _literal(node.args[1])
                if topic and event_type:
                    caused = name == "publish" or any(
                        k.arg == "causation_id" for k in node.keywords
                    )
                    published.add((topic, event_type, not caused))
            elif name == "on" and isinstance(node.func, ast.Attribute):
                routed.update(_routes(node, constants))
    return published, routed


def publish_attributes(
    agent: str, event_type: str, version: int = 1, *, origin: bool = False
) -> dict[str, str]:
    """What a real publish by ``agent`` carries (``switchboard_runtime.publisher``)."""
    return {
        "type": event_type,
        "event_id": PLACEHOLDER_ID,
        "source": agent,
        "correlation_id": PLACEHOLDER_ID,
        "causation_id": "" if origin else PLACEHOLDER_ID,
        "schema_version": str(version),
    }


def build(functions: Path, versions: dict[str, int] | None = None) -> Reachability:
    """The reachability of the catalogue and agents under ``functions``; ``versions``: the
    ``schema_version`` each type is published with (1 when not given)."""
    catalogue = load_catalogue(functions)
    topics = {name: tuple(spec.event_types) for name, spec in catalogue.topics.items()}
    terminal = frozenset(t for spec in catalogue.topics.values() for t in spec.terminal)
    publications: list[Publication] = []
    handlers: dict[str, frozenset[str]] = {}
    receivers: list[Receiver] = []
    for name, agent in catalogue.agents.items():
        published, routed = scan_agent(catalogue.root / name)
        handlers[name] = frozenset(routed)
        for topic, event_type, origin in sorted(published):
            version = (versions or {}).get(event_type, 1)
            attributes = publish_attributes(name, event_type, version, origin=origin)
            publications.append(
                Publication(event_type, topic, name, tuple(sorted(attributes.items())))
            )
        if agent.schedule is not None:
            tick = {"type": TICK, "target": name, "source": SCHEDULER}
            publications.append(
                Publication(TICK, agent.schedule.topic, SCHEDULER, tuple(sorted(tick.items())))
            )
        for spec in agent.subscriptions:
            receivers.append(Receiver(name, spec.topic, effective_filter(name, spec)))
    model = Reachability(topics, terminal, sorted(set(publications)), sorted(receivers), handlers)
    for publication in model.publications:
        for receiver in model.receivers:
            if receiver.topic == publication.topic and matches(
                receiver.filter, dict(publication.attributes)
            ):
                model.edges.add((publication.event_type, receiver.agent))
    return model


def edge_changes(
    base: Reachability, head: Reachability
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(gained, lost) (event type, agent) edges, sorted."""
    return sorted(head.edges - base.edges), sorted(base.edges - head.edges)


def table(model: Reachability) -> list[str]:
    """One line per event type: publishers -> receivers (handlers)."""
    lines = []
    for event_type in model.event_types():
        publishers = ", ".join(model.publishers(event_type)) or "nobody"
        receivers = ", ".join(model.receivers_of(event_type)) or "nobody"
        handled = ", ".join(model.handlers_of(event_type)) or "nobody"
        lines.append(f"{event_type}: {publishers} -> {receivers} (handled by {handled})")
    return lines


@exits_on_catalogue_error
def main(argv: list[str] | None = None) -> int:
    """``python -m tools.reachability [--functions-root DIR]``: the table, one type a line."""
    parser = argparse.ArgumentParser(prog="python -m tools.reachability", description=__doc__)
    parser.add_argument("--functions-root", type=Path, default=FUNCTIONS_DIR)
    args = parser.parse_args(argv)
    try:
        model = build(args.functions_root)
    except ReachabilityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(table(model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
