"""The topology picture: drawn from the catalogue, current, deterministic, complete."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from tools.topology.__main__ import COMMAND, REPO_ROOT, main, outputs
from tools.topology.graph import abbreviate_filter, build_graph, third_party
from tools.topology.svg import to_svg


@pytest.mark.parametrize("name", ["topology.mmd", "topology.svg"])
def test_committed_topology_is_current(name: str) -> None:
    path = REPO_ROOT / "docs" / name
    assert path.is_file(), f"{path} missing: run `{COMMAND}`"
    assert path.read_text(encoding="utf-8") == outputs(FUNCTIONS_DIR)[name], (
        f"docs/{name} is stale: run `{COMMAND}` and commit the result"
    )


def test_graph_covers_the_catalogue() -> None:
    catalogue = load_catalogue()
    graph = build_graph(catalogue)
    kinds = {n.id: n.kind for n in graph.nodes}
    assert sum(k == "agent" for k in kinds.values()) == len(catalogue.agents)
    assert sum(k == "topic" for k in kinds.values()) == len(catalogue.topics)
    assert sum(k == "dead-letter" for k in kinds.values()) == len(list(catalogue.consumers()))
    assert {n.label for n in graph.nodes if n.kind == "api"} == {
        "Stripe API",
        "Twilio API",
        "Google Calendar API",
    }
    edges = {(e.source, e.target, e.kind, e.label) for e in graph.edges}
    assert ("internet", "agent_gateway", "ingress", "public") in edges
    assert ("schedule_reminders", "topic_ticks", "schedule", "*/15 * * * * Etc/UTC") in edges
    assert (
        "topic_bookings",
        "agent_scheduler",
        "subscribe",
        "booking.requested or booking.cancelled",
    ) in edges
    assert ("agent_gateway", "topic_payments", "publish", "") in edges
    assert all(e.source in kinds and e.target in kinds for e in graph.edges)


def test_filter_abbreviation_and_third_parties() -> None:
    assert abbreviate_filter("") == "all"
    assert abbreviate_filter('attributes.type = "tick" AND attributes.target = "r"') == (
        "tick and target=r"
    )
    assert abbreviate_filter("NOT attributes:redrive") == "not has redrive"
    long = " OR ".join(f'attributes.type = "event.number_{i}"' for i in range(5))
    assert len(abbreviate_filter(long)) == 40 and abbreviate_filter(long).endswith("…")
    assert third_party("stripe-api-key") == "Stripe API"
    assert third_party("database-password") is None


def test_new_agent_appears_in_both_outputs(
    functions_copy: Path, edit_manifest: Callable[[str, Callable[[dict[str, Any]], None]], Path]
) -> None:
    import shutil

    shutil.copytree(functions_copy / "notifier", functions_copy / "auditor")
    result = outputs(functions_copy)
    assert "agent_auditor" in result["topology.mmd"]
    assert "auditor-on-notifications-dead-letter" in result["topology.svg"]
    root = ET.fromstring(result["topology.svg"])
    assert root.tag.endswith("svg")
    assert outputs(functions_copy) == result  # deterministic


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out-dir", str(tmp_path)]) == 0
    assert main(["--out-dir", str(tmp_path), "--check"]) == 0
    (tmp_path / "topology.mmd").write_text("stale\n")
    assert main(["--out-dir", str(tmp_path), "--check"]) == 1
    assert COMMAND in capsys.readouterr().err


def test_a_catalogue_without_producer_only_agents_is_laid_out(tmp_path: Path) -> None:
    """No agent only publishes (no gateway): the empty layout column is skipped."""
    from tests.localdev.harness import write_catalogue

    graph = build_graph(load_catalogue(write_catalogue(tmp_path, tmp_path / "records.jsonl")))
    assert "<svg" in to_svg(graph)
