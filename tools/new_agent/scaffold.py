"""Write a new agent's folder and test, after the catalogue's own rules accept it.

The manifest is checked by loading the whole catalogue with the new agent added, in a
staging copy of the manifests: a name, topic or type the rules reject is refused with the
loader's own message, and nothing is written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.catalogue import Catalogue, CatalogueError, load_catalogue
from infra.catalogue.loader import CATALOGUE_FILE, MANIFEST_FILE
from library.event_examples import example
from tools.new_agent import templates
from tools.schemas.registry import RegistryError, newest_model_names

FOLDER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
PLATFORMS = ("function", "run")
PROBE = (
    "description: probe.\nplatform: function\nfirestore: true\n"
    "subscriptions: [{{topic: {topic}}}]\n"
)
"""A minimal manifest: loading the catalogue with it checks the name and the topic (and
works for the first agent of a new fleet, where the catalogue alone has no agents)."""


class ScaffoldError(ValueError):
    """The agent cannot be scaffolded as asked; the message says why."""


@dataclass(frozen=True)
class Request:
    name: str
    topic: str
    event_types: tuple[str, ...] = ()
    platform: str = "function"


def _chosen_types(request: Request, carried: tuple[str, ...]) -> list[str]:
    if not request.event_types:
        return list(carried)
    unknown = [t for t in request.event_types if t not in carried]
    if unknown:
        raise ScaffoldError(
            f"topic {request.topic!r} does not carry {', '.join(unknown)}; "
            f"it carries {', '.join(carried)} (functions/{CATALOGUE_FILE})"
        )
    return list(dict.fromkeys(request.event_types))


def _stage(root: Path, name: str, manifest: str, staging: Path) -> None:
    """The catalogue and every manifest, plus the new one, under ``staging``."""
    shutil.copy(root / CATALOGUE_FILE, staging / CATALOGUE_FILE)
    for path in root.glob(f"*/{MANIFEST_FILE}"):
        (staging / path.parent.name).mkdir()
        shutil.copy(path, staging / path.parent.name / MANIFEST_FILE)
    (staging / name).mkdir()
    (staging / name / MANIFEST_FILE).write_text(manifest, encoding="utf-8")


def _load_with(root: Path, name: str, manifest: str) -> Catalogue:
    """The catalogue as it would be with ``name``'s manifest added (nothing written)."""
    with tempfile.TemporaryDirectory(prefix="switchboard-new-agent-") as temp:
        staging = Path(temp) / root.name  # problems then name root.name/<agent>/agent.yaml
        staging.mkdir()
        _stage(root, name, manifest, staging)
        return load_catalogue(staging)


def check(request: Request, root: Path) -> list[str]:
    """The event types the agent will handle, or ScaffoldError / CatalogueError."""
    if request.platform not in PLATFORMS:
        raise ScaffoldError(f"platform must be one of {', '.join(PLATFORMS)}")
    if not FOLDER_NAME.fullmatch(request.name) or request.name.strip(".") == "":
        raise ScaffoldError(f"{request.name!r} cannot be a folder name under {root.name}/")
    if (root / request.name).exists():
        raise ScaffoldError(f"{root.name}/{request.name} already exists; choose another name")
    for what, value in (
        ("topic", request.topic),
        *(("event type", t) for t in request.event_types),
    ):
        if not TOKEN.fullmatch(value):
            raise ScaffoldError(f"{value!r} is not a {what} name")
    if not (root / CATALOGUE_FILE).is_file():
        raise ScaffoldError(f"{root.name}/{CATALOGUE_FILE} not found")
    topics = _load_with(root, request.name, PROBE.format(topic=request.topic)).topics
    event_types = _chosen_types(request, topics[request.topic].event_types)
    manifest = templates.manifest(request.topic, event_types, request.platform)
    _load_with(root, request.name, manifest)
    return event_types


def read_models(root: Path, event_types: list[str]) -> dict[str, str]:
    """Each type's model name: what the runtime under ``root`` reads its data as (the
    newest version's model), which the handler declares as ``Context[Model]``."""
    try:
        registry = newest_model_names(root)
    except RegistryError as error:
        raise ScaffoldError(str(error)) from None
    missing = [t for t in event_types if t not in registry]
    if missing:
        raise ScaffoldError(
            f"{', '.join(missing)}: not in the runtime's registry "
            f"({root.name}/shared/switchboard_runtime/events.py)"
        )
    return {t: registry[t] for t in event_types}


def agent_test_path(tests_dir: Path, name: str) -> Path:
    """Where an agent's tests live (what the scaffold writes, what ``make test-agent`` runs)."""
    return tests_dir / f"test_{name.replace('-', '_')}.py"


def scaffold(request: Request, root: Path, tests_dir: Path) -> list[Path]:
    """Write the agent's folder and its test; the paths written."""
    event_types = check(request, root)
    test_path = agent_test_path(tests_dir, request.name)
    if test_path.exists():
        raise ScaffoldError(f"{test_path} already exists")
    folder = root / request.name
    files = {
        folder / MANIFEST_FILE: templates.manifest(request.topic, event_types, request.platform),
        folder / "main.py": templates.main_module(
            request.name, request.topic, read_models(root, event_types)
        ),
        folder / "requirements.txt": templates.requirements(request.name),
        test_path: templates.test_module(
            request.name, request.topic, {t: example(t) for t in event_types}
        ),
    }
    folder.mkdir()
    tests_dir.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    _format([p for p in files if p.suffix == ".py"])
    return list(files)


def _format(paths: list[Path]) -> None:
    """The project's formatter over the generated code, where it is installed."""
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", *map(str, paths)],
        check=False,
        capture_output=True,
    )


__all__ = ["CatalogueError", "Request", "ScaffoldError", "check", "scaffold"]
