"""Offline render: run the real Pulumi program under mocks, write a deterministic manifest.

``python -m tools.render dev|staging|prod|all [--out rendered/] [--check]``
"""

from tools.render.manifest import FORMAT, STACKS, manifest_json, render_manifest, render_stack

__all__ = ["FORMAT", "STACKS", "manifest_json", "render_manifest", "render_stack"]
