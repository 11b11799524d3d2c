"""The event-contract half of ``make diff``: schema compatibility and routing edges.

Each side is a registry (:mod:`tools.schemas.registry`) and a reachability model
(:mod:`tools.reachability`). The base side comes from a git ref: its committed
``schemas/events/`` (or, for a revision from before the registry, generated from its
models) and its ``functions/``; the head side from the working tree (fresh from the
models, so an uncommitted change is judged too) or from another ref.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.catalogue.errors import CatalogueError
from tools.diff import sources
from tools.diff.sources import RefRenderError
from tools.reachability import Reachability, ReachabilityError, build, edge_changes
from tools.schemas.compat import Change, Parties, Verdict, compare
from tools.schemas.registry import Registry, RegistryError, from_dir, generate_apart

GATE_EXIT = 3
"""``python -m tools.diff`` exits with this when the compatibility gate fails."""


class ContractSideError(RuntimeError):
    """A side of the contract diff could not be read (names the ref and the cause)."""


@dataclass
class Side:
    label: str
    registry: Registry
    reach: Reachability


@dataclass
class ContractDiff:
    base_label: str
    head_label: str
    verdict: Verdict
    parties: Parties
    gained: list[tuple[str, str]] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.verdict.breaking)

    def describe(self, change: Change) -> str:
        version = f" v{change.version}" if change.version is not None else ""
        where = f" field {change.field}:" if change.field else ":"
        return (
            f"{change.event_type}{version}{where} {change.kind} ({change.detail}); "
            f"{self.parties.describe(change.event_type)}"
        )


def side_at_ref(repo: Path, ref: str) -> Side:
    """The contracts of git ``ref``: its committed registry (generated from its models when
    it has none) and its ``functions/``; extracted as ``make diff`` extracts renders."""
    with tempfile.TemporaryDirectory(prefix="switchboard-contracts-") as temp:
        tree = Path(temp)
        try:
            sources._extract(repo, ref, tree)
            functions = tree / "functions"
            registry = from_dir(tree) or generate_apart(functions)
            return Side(ref, registry, build(functions, _published(registry)))
        except (RefRenderError, RegistryError, CatalogueError, ReachabilityError) as error:
            raise ContractSideError(f"{ref}: {error}") from None


def side_of_tree(functions: Path, label: str = "working tree") -> Side:
    try:
        registry = generate_apart(functions)
        return Side(label, registry, build(functions, _published(registry)))
    except (RegistryError, ReachabilityError) as error:
        raise ContractSideError(f"{label}: {error}") from None


def _published(registry: Registry) -> dict[str, int]:
    return {event_type: entry.publishes for event_type, entry in registry.items()}


def contract_diff(base: Side, head: Side) -> ContractDiff:
    types = set(base.registry) | set(head.registry)
    consumers = {
        t: sorted(
            set(base.reach.receivers_of(t))
            | set(head.reach.receivers_of(t))
            | set(base.reach.handlers_of(t))
            | set(head.reach.handlers_of(t))
        )
        for t in types
    }
    producers = {
        t: sorted(set(base.reach.publishers(t)) | set(head.reach.publishers(t))) for t in types
    }
    gained, lost = edge_changes(base.reach, head.reach)
    return ContractDiff(
        base.label,
        head.label,
        compare(base.registry, head.registry),
        Parties(consumers, producers),
        gained,
        lost,
    )


def text_section(diff: ContractDiff) -> str:
    lines = [f"== event contracts: {diff.base_label} -> {diff.head_label}"]
    breaking, compatible = (
        diff.verdict.breaking,
        [c for c in diff.verdict.changes if not c.breaking],
    )
    if not diff.verdict.changes and not diff.gained and not diff.lost:
        lines.append("   no schema or routing changes")
    if breaking:
        lines.append("   !! INCOMPATIBLE SCHEMA CHANGES (a side still running the old code fails):")
        lines += [f"   !! {diff.describe(c)}" for c in breaking]
        lines.append(
            "   fix: ship the change as a new version readers learn first (docs/agent-contract.md)"
        )
    lines += [f"   ok {diff.describe(c)}" for c in compatible]
    lines += [f"   deploy first: {note}" for note in diff.verdict.deploy_first]
    lines += [f"   + edge {t} -> {agent} (gained)" for t, agent in diff.gained]
    lines += [
        f"   - edge {t} -> {agent} (LOST: {agent} stops receiving {t})" for t, agent in diff.lost
    ]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_section(diff: ContractDiff) -> str:
    lines = [f"### Event contracts: `{diff.base_label}` → `{diff.head_label}`", ""]
    if not diff.verdict.changes and not diff.gained and not diff.lost:
        return "\n".join([*lines, "No schema or routing changes.", ""]) + "\n"
    if diff.verdict.breaking:
        lines += ["> [!CAUTION]", "> **Incompatible schema changes: this check fails.**", ">"]
        lines += [f"> - {_md(diff.describe(c))}" for c in diff.verdict.breaking]
        lines.append("")
    compatible = [c for c in diff.verdict.changes if not c.breaking]
    lines += [f"- compatible: {_md(diff.describe(c))}" for c in compatible]
    lines += [f"- **deploy first:** {_md(note)}" for note in diff.verdict.deploy_first]
    if diff.gained or diff.lost:
        lines += ["", "| | event type | agent |", "|---|---|---|"]
        lines += [f"| + gained | `{t}` | {a} |" for t, a in diff.gained]
        lines += [f"| **- lost** | `{t}` | **{a}** |" for t, a in diff.lost]
    lines.append("")
    return "\n".join(lines) + "\n"
