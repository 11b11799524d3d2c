"""The per-deploy configuration snapshot (what ran when)."""

from infra.snapshots.component import DeploySnapshot, DeploySnapshotArgs
from infra.snapshots.content import object_name, render, snapshot

__all__ = ["DeploySnapshot", "DeploySnapshotArgs", "object_name", "render", "snapshot"]
