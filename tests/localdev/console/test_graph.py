"""The console's graph is docs/topology.svg's graph, each edge keyed for its live counts."""

from __future__ import annotations

from infra.catalogue import load_catalogue
from library.topology.graph import build_graph, node_id
from localdev.console.graph import graph_document
from localdev.console.tap import MessageStore, TappedMessage


def test_every_subscription_has_its_subscribe_and_dead_letter_edge() -> None:
    catalogue = load_catalogue()
    document = graph_document(catalogue)
    graph = build_graph(catalogue)
    assert [(e["source"], e["target"], e["kind"]) for e in document["edges"]] == [
        (e.source, e.target, e.kind) for e in graph.edges
    ]
    assert {n["id"] for n in document["nodes"]} == {n.id for n in graph.nodes}
    for consumer in catalogue.consumers():
        keyed = [e for e in document["edges"] if e["key"] == consumer.subscription_id]
        assert sorted(e["kind"] for e in keyed) == ["dead-letter", "subscribe"]
        subscribe = next(e for e in keyed if e["kind"] == "subscribe")
        assert subscribe["source"] == node_id("topic", consumer.topic)
        assert subscribe["target"] == node_id("agent", consumer.agent.name)
    schedules = {e["key"] for e in document["edges"] if e["kind"] == "schedule"}
    assert schedules == {f"schedule:{a.name}" for a in catalogue.scheduled_agents()}
    assert all(e["path"].startswith("M") for e in document["edges"])


def test_the_message_store_is_bounded_and_indexed() -> None:
    store = MessageStore(limit=3)
    for number in range(5):
        attributes = {"event_id": f"e{number}", "correlation_id": "c", "causation_id": ""}
        store.add(TappedMessage("t", f"m{number}", attributes, b"{}", 2, ""))
    assert [m.message_id for m in store.all()] == ["m2", "m3", "m4"]
    assert [m.message_id for m in store.by_ids({"e3"})] == ["m3"]
    assert len(store.by_ids({"c"})) == 3
    heavy = MessageStore(limit=100, max_bytes=25)
    for number in range(4):
        heavy.add(TappedMessage("t", f"m{number}", {}, b"x" * 10, 10, ""))
    assert [m.message_id for m in heavy.all()] == ["m2", "m3"]  # 20 bytes kept, not 40


def test_data_is_decoded_for_people() -> None:
    def decoded(data: bytes) -> tuple[object, str]:
        shown = TappedMessage("t", "m", {}, data, len(data), "").to_json()
        return shown["data"], shown["data_kind"]

    assert decoded(b'{"a": 1}') == ({"a": 1}, "json")
    assert decoded(b'{"booking_id": ') == ('{"booking_id": ', "text")
    assert decoded(b"\xff\xfe") == ({"base64": "//4="}, "binary")
    big = TappedMessage("t", "m", {}, b"x" * 10, 100, "").to_json()
    assert big["truncated"] and big["event_id"] == "m"
