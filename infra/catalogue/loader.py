"""Read ``functions/catalogue.yaml`` and every ``functions/<agent>/agent.yaml``.

All problems in all files are collected and raised together as one
:class:`~infra.catalogue.errors.CatalogueError`, each naming its file and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from infra.catalogue.catalogue import Catalogue
from infra.catalogue.errors import CatalogueError, Problem, display_path
from infra.catalogue.model import AgentManifest, SecretSpec, TopicSpec
from infra.catalogue.rules import Context, run_rules

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
CATALOGUE_FILE = "catalogue.yaml"
MANIFEST_FILE = "agent.yaml"

M = TypeVar("M", bound=BaseModel)


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
    unknown = sorted(set(declarations) - {"topics", "secrets"})
    for key in unknown:
        problems.append(Problem(catalogue_file, key, "unknown section (expected topics, secrets)"))
    topics = _parse_section(declarations, "topics", TopicSpec, catalogue_file, problems)
    secrets = _parse_section(declarations, "secrets", SecretSpec, catalogue_file, problems)

    agents: dict[str, AgentManifest] = {}
    agent_files: dict[str, str] = {}
    for manifest_path in sorted(root.glob(f"*/{MANIFEST_FILE}")):
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
        manifest = _validate(AgentManifest, {**raw, "name": name}, file, "", problems)
        if manifest is not None:
            agents[name] = manifest
            agent_files[name] = file
    if not agents and not problems:
        problems.append(
            Problem(display_path(root, root), "", f"no agents found (no */{MANIFEST_FILE})")
        )

    if not problems:
        context = Context(topics, secrets, agents, agent_files, catalogue_file)
        problems.extend(run_rules(context))
    if problems:
        raise CatalogueError(problems)
    return Catalogue(root=root, topics=topics, secrets=secrets, agents=agents)


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    file = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(file, "", "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(file, "", f"cannot be read: {error}"))
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(file, where, f"invalid YAML: {reason}"))
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
        value = _validate(model, body or {}, file, f"{section}.{name}", problems)
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
    return f"{message} (got {detail.get('input')!r})"
