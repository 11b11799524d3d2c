"""Generate, write, check and read the event schema registry.

Layout (committed, like ``rendered/``)::

    schemas/events/index.json          {type: {topic, publishes, versions}}
    schemas/events/<type>/v<N>.json    JSON Schema of <type> version N (validation mode)

The schemas come from the pydantic models in ``functions/shared/switchboard_runtime/
events.py`` (``model_json_schema``); they describe what a producer may send (unknown
fields refused: ``additionalProperties: false``). Readers ignore unknown fields.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from infra.catalogue import FUNCTIONS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = Path("schemas") / "events"
INDEX = "index.json"
MAX_REGISTRY_FILES = 1000
MAX_SCHEMA_BYTES = 1024 * 1024


class RegistryError(RuntimeError):
    """A registry that cannot be read (the message names the file or ref)."""


@dataclass(frozen=True)
class TypeEntry:
    topic: str
    publishes: int
    versions: tuple[int, ...]
    schemas: dict[int, dict[str, Any]] = field(default_factory=dict, compare=False)


Registry = dict[str, TypeEntry]


def _events_module() -> Any:
    """The ``switchboard_runtime.events`` this process imports: the project's (installed
    editable), or another tree's where :func:`generate_apart` puts it first on the path."""
    from switchboard_runtime import events

    return events


def _imported_tree() -> Path:
    """The functions tree whose runtime this process imports."""
    return Path(_events_module().__file__).resolve().parents[2]


def generate(functions: Path = FUNCTIONS_DIR) -> Registry:
    """The registry of the models under ``functions``, which must be the tree whose runtime
    this process imports (the project's; another tree's in :func:`generate_apart`)."""
    events = _events_module()
    imported = _imported_tree()
    if imported != functions.resolve():
        raise RegistryError(
            f"{functions}: this process imports the runtime of {imported} "
            "(generate_apart() reads another tree, in a subprocess)"
        )
    registry: Registry = {}
    for event_type in sorted(events.EVENT_TYPES):
        spec = events.EVENT_TYPES[event_type]
        # A revision from before versions were declared has one ``version`` and ``model``.
        versions = getattr(spec, "versions", None) or (
            SimpleNamespace(number=spec.version, model=spec.model),
        )
        schemas = {v.number: v.model.model_json_schema(mode="validation") for v in versions}
        registry[event_type] = TypeEntry(spec.topic, spec.version, tuple(schemas), schemas)
    return registry


def generate_apart(functions: Path) -> Registry:
    """:func:`generate` in a subprocess: for another tree, whose ``switchboard_runtime``
    must not be confused with one this process imported already. The subprocess writes no
    bytecode into that tree: it is read, not owned, and a cache written there could be
    taken for a later edit of the same size within the same second (the mtime is whole
    seconds), so the edit would go unseen."""
    paths = [str(REPO_ROOT), str(functions / "shared")]
    result = subprocess.run(
        [sys.executable, "-m", "tools.schemas", "--print", "--functions-root", str(functions)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise RegistryError(f"generating the schemas of {functions} failed:\n{tail}")
    texts = json.loads(result.stdout)
    return from_files(texts.get, str(functions))


def newest_model_names(functions: Path) -> dict[str, str]:
    """Each event type's newest model's class name in the runtime under ``functions`` (the
    schema's title): read in this process where it imports that tree, else in a subprocess."""
    same_tree = _imported_tree() == functions.resolve()
    registry = generate(functions) if same_tree else generate_apart(functions)
    return {name: entry.schemas[entry.versions[-1]]["title"] for name, entry in registry.items()}


def files(registry: Registry) -> dict[str, str]:
    """Relative path (under ``schemas/events``) -> content, deterministic."""
    index = {
        t: {"topic": e.topic, "publishes": e.publishes, "versions": list(e.versions)}
        for t, e in sorted(registry.items())
    }
    out = {INDEX: _dump(index)}
    for event_type, entry in registry.items():
        for number, schema in entry.schemas.items():
            out[f"{event_type}/v{number}.json"] = _dump(schema)
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(registry: Registry, root: Path = REPO_ROOT) -> list[str]:
    """Write the registry under ``root/schemas/events`` (stale files removed); paths written."""
    target = root / SCHEMAS_DIR
    wanted = files(registry)
    if target.is_dir():
        for old in target.rglob("*.json"):
            if old.relative_to(target).as_posix() not in wanted:
                old.unlink()
    for relative, text in wanted.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in sorted(target.iterdir()):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return sorted(wanted)


def stale(registry: Registry, root: Path = REPO_ROOT) -> list[str]:
    """Files of ``schemas/events`` that differ from ``registry`` (missing, changed, extra)."""
    target = root / SCHEMAS_DIR
    wanted = files(registry)
    found = (
        {p.relative_to(target).as_posix() for p in target.rglob("*.json")}
        if target.is_dir()
        else set()
    )
    problems = [f"extra: {p}" for p in sorted(found - set(wanted))]
    for relative, text in sorted(wanted.items()):
        path = target / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"changed: {relative}")
    return problems


def from_files(read: Any, where: str) -> Registry:
    """A registry from ``read(relative) -> text | None`` (a folder or a git ref)."""
    text = read(INDEX)
    if text is None:
        return {}  # no registry there yet: everything on the other side is new
    try:
        index = json.loads(text)
        registry: Registry = {}
        if not isinstance(index, dict) or len(index) > MAX_REGISTRY_FILES:
            raise ValueError("index.json is not an object of event types")
        for event_type, meta in index.items():
            versions = tuple(int(v) for v in meta["versions"])
            schemas = {}
            for number in versions:
                body = read(f"{event_type}/v{number}.json")
                if body is None:
                    raise ValueError(f"{event_type}/v{number}.json is missing")
                schemas[number] = json.loads(body)
            registry[event_type] = TypeEntry(
                str(meta["topic"]), int(meta["publishes"]), versions, schemas
            )
    except (ValueError, KeyError, TypeError) as error:
        raise RegistryError(f"{where}: not a schema registry ({error})") from None
    return registry


def from_dir(root: Path = REPO_ROOT) -> Registry:
    target = root / SCHEMAS_DIR

    def read(relative: str) -> str | None:
        path = target / relative
        return path.read_text(encoding="utf-8") if path.is_file() else None

    return from_files(read, str(target))
