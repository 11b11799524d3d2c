"""Switchboard's command-line tools, one package per tool, each ``python -m tools.<name>``.

- ``tools.render``: offline render of a stack into a deterministic manifest (rendered/).
- ``tools.diff``: review-friendly diff of two renders, with replacement warnings.
- ``tools.topology``: the fleet as a Mermaid graph and an SVG (docs/topology.*).
- ``tools.verify``: post-deploy checks of a live project against the catalogue.
- ``tools.deadletters``: inspect and redrive dead letters.
"""
