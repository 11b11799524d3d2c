"""Read ``functions/catalogue.yaml`` and every ``functions/<agent>/agent.yaml``.

All problems in all files are collected and raised together as one
:class:`~infra.catalogue.errors.CatalogueError`, each naming its file and field: the
schema problems of every file and, in the same pass, the cross-file rules over whatever
parsed, and the declared event types against the contract's registry
(:mod:`infra.catalogue.event_registry`). A manifest with schema problems is still checked
by the rules, with its invalid fields left out (and problems about those fields dropped),
so fixing one round of errors never reveals a second. YAML is read strictly and within
bounds (:mod:`infra.catalogue.yaml_reader`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infra.catalogue.catalogue import Catalogue
from infra.catalogue.errors import CatalogueError, Problem, clip, display_path, excerpt
from infra.catalogue.event_registry import registry_of, registry_problems
from infra.catalogue.model import AgentManifest, SecretSpec, TopicSpec
from infra.catalogue.rules import Context, run_rules
from infra.catalogue.yaml_reader import YamlError, read_yaml

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
CATALOGUE_FILE = "catalogue.yaml"
MANIFEST_FILE = "agent.yaml"

M = TypeVar("M", bound=BaseModel)
# Stand-ins for required fields that failed validation, so the rest is still checked.
PLACEHOLDERS: dict[str, Any] = {"description": "(invalid)", "platform": "function"}


def load_catalogue(root: Path = FUNCTIONS_DIR) -> Catalogue:
    """Load and validate the whole catalogue, or raise CatalogueError listing every problem."""
    root = root.resolve()
    problems: list[Problem] = []
    catalogue_path = root / CATALOGUE_FILE
    catalogue_file = display_path(catalogue_path, root)

    declarations = _read_yaml(catalogue_path, root, problems) or {}
    if not isinstance(declarations, dict):
        problems.append(Problem(catalogue_file, "", "must be a mapping with topics and secrets"))
        declarations = {}
    unknown = sorted(set(declarations) - {"topics", "secrets"}, key=str)
    for key in unknown:
        problems.append(
            Problem(catalogue_file, str(key), "unknown section (expected topics, secrets)")
        )
    topics = _parse_section(declarations, "topics", TopicSpec, catalogue_file, problems)
    secrets = _parse_section(declarations, "secrets", SecretSpec, catalogue_file, problems)
    declarations_complete = not problems

    agents: dict[str, AgentManifest] = {}
    agent_files: dict[str, str] = {}
    partial: dict[str, set[str]] = {}  # agent -> top-level fields left out as invalid
    manifests = sorted(root.glob(f"*/{MANIFEST_FILE}"))
    for manifest_path in manifests:
        name = manifest_path.parent.name
        file = display_path(manifest_path, root)
        raw = _read_yaml(manifest_path, root, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(file, "", "must be a mapping of manifest fields"))
            continue
        if "name" in raw and raw["name"] != name:
            problems.append(
                Problem(file, "name", f"must match the folder name {name!r} (or be omitted)")
            )
            continue
        manifest, left_out = _validate_manifest({**raw, "name": name}, file, problems)
        if manifest is not None:
            agents[name] = manifest
            agent_files[name] = file
            if left_out:
                partial[name] = left_out
    if not manifests and not problems:
        problems.append(
            Problem(display_path(root, root), "", f"no agents found (no */{MANIFEST_FILE})")
        )

    context = Context(
        topics,
        secrets,
        agents,
        agent_files,
        catalogue_file,
        declarations_complete=declarations_complete,
    )
    problems.extend(p for p in run_rules(context) if not _about_left_out(p, agent_files, partial))
    registry = registry_of(root)
    if registry is not None and declarations_complete:
        problems.extend(registry_problems(topics, catalogue_file, *registry))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(root=root, topics=topics, secrets=secrets, agents=agents)


def _validate_manifest(
    raw: dict[Any, Any], file: str, problems: list[Problem]
) -> tuple[AgentManifest | None, set[str]]:
    """The manifest, or (when it has schema problems) a stand-in without the invalid
    top-level fields for the cross-file rules, and the set of fields left out."""
    try:
        return AgentManifest.model_validate(raw), set()
    except ValidationError as error:
        details = error.errors()
    for detail in details:
        problems.append(Problem(file, _field_path("", detail["loc"]), _message(detail)))
    if not all(detail["loc"] for detail in details):
        return None, set()  # a whole-manifest problem: nothing sound to check further
    left_out = {str(detail["loc"][0]) for detail in details}
    trimmed = {k: v for k, v in raw.items() if str(k) not in left_out}
    for field, stand_in in PLACEHOLDERS.items():
        trimmed.setdefault(field, stand_in)
    try:
        return AgentManifest.model_validate(trimmed), left_out
    except ValidationError:
        return None, set()


def _about_left_out(
    problem: Problem, agent_files: dict[str, str], partial: dict[str, set[str]]
) -> bool:
    for agent, fields in partial.items():
        if problem.file == agent_files[agent]:
            top = problem.field.split(".", 1)[0].split("[", 1)[0]
            return top in fields
    return False


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    try:
        return read_yaml(path)
    except YamlError as problem:
        problems.append(Problem(display_path(path, root), problem.where, problem.reason))
        return None


def _parse_section(
    declarations: dict[str, Any],
    section: str,
    model: type[M],
    file: str,
    problems: list[Problem],
) -> dict[str, M]:
    entries = declarations.get(section) or {}
    if not isinstance(entries, dict):
        problems.append(Problem(file, section, "must be a mapping of name to declaration"))
        return {}
    parsed: dict[str, M] = {}
    for name, body in entries.items():
        value = _validate(model, body or {}, file, f"{section}.{clip(str(name), 40)}", problems)
        if value is not None:
            parsed[str(name)] = value
    return parsed


def _validate(
    model: type[M], data: Any, file: str, prefix: str, problems: list[Problem]
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            field = _field_path(prefix, detail["loc"])
            problems.append(Problem(file, field, _message(detail)))
        return None


def _field_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("function-after", "[key]") or str(part).startswith("function-"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(detail: Any) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see the manifest reference in the README)"
    if kind == "missing":
        return "required field is missing"
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message} (got {excerpt(detail.get('input'))})"
