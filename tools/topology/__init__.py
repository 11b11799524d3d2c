"""The fleet drawn from the catalogue: Mermaid (docs/topology.mmd) and SVG (docs/topology.svg).

``python -m tools.topology [--out-dir docs] [--check]``
"""

from tools.topology.graph import Edge, Graph, Node, build_graph

__all__ = ["Edge", "Graph", "Node", "build_graph"]
