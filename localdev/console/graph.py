"""The catalogue's picture for the page: the graph and layout of ``docs/topology.svg``
(library/topology), as JSON the page draws, each edge keyed by what its live counts follow."""

from __future__ import annotations

from typing import Any

from infra.catalogue import Catalogue
from library.topology.graph import Edge, build_graph, node_id
from library.topology.svg import EDGE_STYLE, FILL, NODE_HEIGHT, edge_geometry, layout


def edge_keys(catalogue: Catalogue, edges: list[Edge]) -> list[str]:
    """The counter key of each edge: a subscribe edge and the dead-letter edge after it
    follow that consumer's subscription id; a schedule edge ``schedule:<agent>``."""
    consumers = list(catalogue.consumers())
    scheduled = {node_id("schedule", a.name): a.name for a in catalogue.scheduled_agents()}
    keys, position = [], 0
    for edge in edges:
        key = ""
        if edge.kind == "subscribe" and position < len(consumers):
            consumer = consumers[position]
            assert edge.source == node_id("topic", consumer.topic)
            assert edge.target == node_id("agent", consumer.agent.name)
            key = consumer.subscription_id
        elif edge.kind == "dead-letter" and position < len(consumers):
            key = consumers[position].subscription_id
            position += 1
        elif edge.kind == "schedule":
            key = f"schedule:{scheduled[edge.source]}"
        keys.append(key)
    return keys


def graph_document(catalogue: Catalogue) -> dict[str, Any]:
    graph = build_graph(catalogue)
    boxes, width, height = layout(graph)
    nodes = []
    for node in graph.nodes:
        box = boxes[node.id]
        fill, stroke = FILL[node.kind]
        nodes.append(
            {
                "id": node.id,
                "label": node.label,
                "kind": node.kind,
                "detail": node.detail,
                "x": box.x,
                "y": box.y,
                "width": box.width,
                "height": NODE_HEIGHT,
                "fill": fill,
                "stroke": stroke,
            }
        )
    edges = []
    for edge, key in zip(graph.edges, edge_keys(catalogue, graph.edges), strict=True):
        shape = edge_geometry(edge, boxes, label="0000 delivered")
        colour, dash = EDGE_STYLE[edge.kind]
        edges.append(
            {
                "source": edge.source,
                "target": edge.target,
                "kind": edge.kind,
                "label": edge.label,
                "key": key,
                "path": shape.path,
                "label_x": shape.label_x,
                "label_y": shape.label_y,
                "colour": colour,
                "dash": dash,
            }
        )
    return {"width": width, "height": height, "nodes": nodes, "edges": edges}
