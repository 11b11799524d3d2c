"""The fleet graph and its layout: complete, labelled, drawable for any catalogue."""

from __future__ import annotations

from pathlib import Path

from infra.catalogue import load_catalogue
from library.topology.graph import abbreviate_filter, build_graph, third_party
from library.topology.svg import to_svg


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


def test_a_catalogue_without_producer_only_agents_is_laid_out(tmp_path: Path) -> None:
    """No agent only publishes (no gateway): the empty layout column is skipped."""
    from tests.localdev.harness import write_catalogue

    graph = build_graph(load_catalogue(write_catalogue(tmp_path, tmp_path / "records.jsonl")))
    assert "<svg" in to_svg(graph)
