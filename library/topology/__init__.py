"""The fleet as a graph (:mod:`.graph`), drawn as Mermaid (:mod:`.mermaid`) and SVG (:mod:`.svg`).

The command that writes docs/topology.* is ``python -m tools.topology``; the local console
draws its live picture from the same graph and layout.
"""

from library.topology.graph import Edge, Graph, Node, build_graph

__all__ = ["Edge", "Graph", "Node", "build_graph"]
