"""The fleet drawn from the catalogue: Mermaid (docs/topology.mmd) and SVG (docs/topology.svg).

``python -m tools.topology [--out-dir docs] [--check]``; the graph and its drawings are
:mod:`library.topology`.
"""
