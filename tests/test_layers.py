"""The house has layers: every module imports only from its own layer or the ones below.

Declared once, here (lowest first; README's "Repository map" shows the same order):

0. ``functions``: the agents and what ships in their archives (``functions/shared``:
   the runtime); imports nothing of the repository outside ``functions/``.
1. ``library``: the shared libraries (topology graph, dead-letter operations, the render
   format, GCP type tokens, the finding type); reads the catalogue through protocols.
2. ``bootstrap``, ``infra``, ``sandbox``: the bootstrap program, the Pulumi program (with the
   catalogue), the local fakes of third-party APIs.
3. ``localdev``: the local platform.
4. ``policy``: the policy pack's pure rules and their command.
5. ``tools``, ``bench``: the commands and the benchmarks.
6. ``__main__.py``: the Pulumi program's entry point.

Every import counts (also a lazy one inside a function, or one under ``TYPE_CHECKING``): a
module may import its own top-level package or one of a lower layer; two packages of one
layer may import each other, but never in a cycle. The tests are not part of the house.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
LAYERS: tuple[tuple[str, ...], ...] = (
    ("functions",),
    ("library",),
    ("bootstrap", "infra", "sandbox"),
    ("localdev",),
    ("policy",),
    ("tools", "bench"),
    ("__main__",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
NOT_IN_THE_HOUSE = {"tests", "docs", "rendered", "schemas", "cost"}
Edge = tuple[str, str, str]
"""(importing unit, imported unit, ``module.py:line imports name``)."""


def unit_of(path: Path) -> str:
    """The top-level package (or root module) a repository file belongs to."""
    first = path.relative_to(REPO_ROOT).parts[0]
    return first.removesuffix(".py")


def modules() -> Iterator[Path]:
    for path in sorted(REPO_ROOT.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).parts
        if any(p.startswith(".") for p in parts) or parts[0] in NOT_IN_THE_HOUSE:
            continue
        yield path


@cache
def resolve(name: str, importer_unit: str) -> str | None:
    """The unit a top-level import name lives in; ``None``: not the repository's."""
    if (REPO_ROOT / name).is_dir() or (REPO_ROOT / f"{name}.py").is_file():
        return name
    functions = REPO_ROOT / "functions"
    if (functions / "shared" / name).is_dir() or any(functions.glob(f"*/{name}.py")):
        return "functions"
    own = REPO_ROOT / importer_unit
    if own.is_dir() and ((own / name).is_dir() or (own / f"{name}.py").is_file()):
        return importer_unit  # a package run from its own folder (policy's pack)
    return None


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


@cache
def edges() -> tuple[Edge, ...]:
    found: list[Edge] = []
    for path in modules():
        source = unit_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported_names(tree):
            target = resolve(name.split(".")[0], source)
            if target is not None and target != source:
                where = f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
                found.append((source, target, where))
    return tuple(found)


def upward(found: Iterable[Edge], rank: Mapping[str, int]) -> list[str]:
    """Imports of a higher layer, or of something outside the house (``tests``)."""
    top = len(LAYERS)
    return [f"{where} ({s} -> {t})" for s, t, where in found if rank.get(t, top) > rank[s]]


def cycles(found: Iterable[Edge]) -> list[list[str]]:
    """Every cycle between units (as a path that returns to its start), one per start."""
    graph: dict[str, set[str]] = {}
    for source, target, _ in found:
        graph.setdefault(source, set()).add(target)
    loops: list[list[str]] = []
    for start in sorted(graph):
        pending = [(start, [start])]
        seen: set[str] = set()
        while pending:
            node, path = pending.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    loops.append([*path, start])
                    pending.clear()
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    pending.append((nxt, [*path, nxt]))
    return loops


def test_every_package_has_a_declared_layer() -> None:
    units = {unit_of(path) for path in modules()}
    assert units - set(RANK) == set(), "declare the new package's layer in LAYERS"
    assert set(RANK) - units == set(), "LAYERS names a package that does not exist"


def test_no_module_imports_a_higher_layer() -> None:
    assert upward(edges(), RANK) == []


def test_no_cycle_between_packages() -> None:
    assert cycles(edges()) == []


def test_the_library_reads_the_catalogue_through_protocols() -> None:
    """The edges found are the real ones: tools import the library and infra, infra the
    library, and the library nothing above functions/."""
    pairs = {(s, t) for s, t, _ in edges()}
    assert {("tools", "library"), ("tools", "infra"), ("infra", "library")} <= pairs
    assert {t for s, t in pairs if s == "library"} <= {"functions"}


@pytest.mark.parametrize(
    ("planted", "problem"),
    [
        ([("library", "tools", "library/x.py:1 imports tools.y")], "upward"),
        ([("infra", "tests", "infra/x.py:1 imports tests.harness")], "upward"),
        (
            [
                ("infra", "sandbox", "infra/a.py:1 imports sandbox"),
                ("sandbox", "infra", "sandbox/b.py:2 imports infra"),
            ],
            "cycle",
        ),
    ],
)
def test_a_planted_upward_import_or_cycle_is_caught(planted: list[Edge], problem: str) -> None:
    assert bool(upward(planted, RANK)) == (problem == "upward")
    assert bool(cycles(planted)) == (problem == "cycle")
