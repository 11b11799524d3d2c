"""The Pulumi state bucket (``pulumi login gs://...``)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from .settings import StateSettings

DAY = 86400


@dataclass(frozen=True)
class StateBucketArgs:
    project: str
    name: str
    settings: StateSettings
    storage_api: pulumi.Resource


class StateBucket(pulumi.ComponentResource):
    """Private (uniform access, public access prevention enforced), versioned: every
    update's state file stays recoverable as a noncurrent version for
    ``noncurrentDays``, at most ``noncurrentVersions`` of them per object, and deleted
    objects stay restorable for ``softDeleteDays``.

    No retention policy: Pulumi overwrites the state file on every update, and a
    retention policy forbids overwriting an object younger than its period. Protected:
    ``pulumi destroy`` of the bootstrap cannot delete the fleet's state."""

    bucket: gcp.storage.Bucket
    url: pulumi.Output[str]
    """``gs://<bucket>``: what ``pulumi login`` and ``PULUMI_BACKEND_URL`` take."""

    def __init__(
        self, name: str, args: StateBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:StateBucket", name, None, opts)
        settings = args.settings
        self.bucket = gcp.storage.Bucket(
            "pulumi-state",
            project=args.project,
            name=args.name,
            location=settings.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            soft_delete_policy={"retention_duration_seconds": settings.soft_delete_days * DAY},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "with_state": "ARCHIVED",
                        "num_newer_versions": settings.noncurrent_versions,
                    },
                },
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "with_state": "ARCHIVED",
                        "days_since_noncurrent_time": settings.noncurrent_days,
                    },
                },
            ],
            force_destroy=False,
            labels={"app": "switchboard", "purpose": "pulumi-state"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.storage_api], protect=True),
        )
        self.url = pulumi.Output.concat("gs://", self.bucket.name)
        self.register_outputs({"url": self.url})
