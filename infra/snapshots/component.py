"""Every deploy leaves a JSON snapshot of what it deployed in a versioned private bucket.

``gcloud storage ls -l gs://<project>-deploy-snapshots/deploys/`` lists them with their
creation times; ``gcloud storage cat`` two of them into ``diff`` to see what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.snapshots.content import object_name

NONCURRENT_VERSION_DAYS = 365


@dataclass(frozen=True)
class DeploySnapshotArgs:
    project: str
    region: str
    content: str
    """The rendered snapshot (:func:`infra.snapshots.content.render`)."""
    protect: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class DeploySnapshot(pulumi.ComponentResource):
    """Bucket: uniform access, public access prevention, versioning. Object: named by the
    content's hash and ``retain_on_delete``, so the next deploy's snapshot (a new name)
    does not delete this one: the bucket keeps the history."""

    bucket: gcp.storage.Bucket
    object: gcp.storage.BucketObject

    def __init__(
        self, name: str, args: DeploySnapshotArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:snapshots:DeploySnapshot", name, None, opts)
        self.bucket = gcp.storage.Bucket(
            "deploy-snapshots",
            project=args.project,
            name=f"{args.project}-deploy-snapshots",
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            force_destroy=not args.protect,
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"days_since_noncurrent_time": NONCURRENT_VERSION_DAYS},
                }
            ],
            labels={**args.labels, "role": "deploy-snapshots"},
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=list(args.depends_on)
            ),
        )
        self.object_name = object_name(args.content)
        self.object = gcp.storage.BucketObject(
            "deploy-snapshot",
            bucket=self.bucket.name,
            name=self.object_name,
            content=args.content,
            content_type="application/json",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.register_outputs({"bucket": self.bucket.name, "object": self.object.name})
