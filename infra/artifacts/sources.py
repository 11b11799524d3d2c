"""Where agent code goes before it runs: the source bucket, the image repository, and the
build identity Cloud Build uses to turn an archive into a function or service.

A 2nd-gen function does not build from our bucket: Cloud Functions copies the archive to
its own ``gcf-v2-sources-<project number>-<region>`` bucket and the build, run as our
build account, fetches it from there ("Access to bucket gcf-v2-sources-... denied. You
must grant Storage Object Viewer permission to <build account>",
terraform-provider-google #20571; the provider's own example grants objectViewer on the
project). That bucket does not exist before the project's first function deploy, so no
bucket-level grant can be declared for it; the build account gets
``roles/storage.objectViewer`` on the project with an IAM condition admitting only
buckets named ``gcf-v2-sources-*`` (a project-level grant reaches only this project's
buckets; storage resource names are ``projects/_/buckets/B`` and
``projects/_/buckets/B/objects/O``, https://cloud.google.com/iam/docs/conditions-resource-attributes).
``make preflight`` (tools/preflight/org_rules.py, rule ``gcf-sources-readable``) fails
when a function's build account cannot read that bucket or the function does not wait
for the grant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.iam import GrantPropagation, GrantPropagationArgs

BUILDER_ACCOUNT_ID = "sb-builder"
REPOSITORY_ID = "switchboard-agents"
GCF_SOURCES_BUCKET_PREFIX = "gcf-v2-sources-"
"""Cloud Functions (2nd gen) copies each deploy's archive to gcf-v2-sources-<number>-<region>."""
GCF_SOURCES_CONDITION = (
    f'resource.name.startsWith("projects/_/buckets/{GCF_SOURCES_BUCKET_PREFIX}")'
)


@dataclass(frozen=True)
class AgentSourcesArgs:
    project: str
    region: str
    protect: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class AgentSources(pulumi.ComponentResource):
    """Source archives bucket (private, uniform access), an Artifact Registry repository
    for built images (old ones cleaned up) and a least-privilege build service account."""

    bucket: gcp.storage.Bucket
    repository: gcp.artifactregistry.Repository
    builder: gcp.serviceaccount.Account
    builder_grants: list[pulumi.Resource]
    """The build identity's grants: a build that runs before they exist fails."""

    def __init__(
        self, name: str, args: AgentSourcesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:artifacts:AgentSources", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.bucket = gcp.storage.Bucket(
            "agent-sources",
            project=args.project,
            name=f"{args.project}-agent-sources",
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.protect,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=args.protect)),
        )
        self.repository = gcp.artifactregistry.Repository(
            "agent-images",
            project=args.project,
            location=args.region,
            repository_id=REPOSITORY_ID,
            format="DOCKER",
            description="Images Cloud Build makes from Switchboard agent archives.",
            cleanup_policies=[
                {"id": "keep-recent", "action": "KEEP", "most_recent_versions": {"keep_count": 10}},
                {"id": "delete-old", "action": "DELETE", "condition": {"older_than": "2592000s"}},
            ],
            labels=dict(args.labels),
            opts=child,
        )
        self.builder = gcp.serviceaccount.Account(
            "builder",
            project=args.project,
            account_id=BUILDER_ACCOUNT_ID,
            display_name="Switchboard agent builds (Cloud Build)",
            opts=child,
        )
        builder_member = self.builder.email.apply(lambda e: f"serviceAccount:{e}")
        # What a buildpacks build from a bucket into Artifact Registry needs: the Cloud Run
        # Builder role's permissions (roles/run.builder) but for deleteArtifacts (cleanup of
        # a build cache image, which our builds do not set) and source.repos.get (Cloud
        # Source Repositories), each on the narrowest resource: logs (project-level only),
        # this repository (push and pull), this bucket (read the archive), and Cloud
        # Functions' gcf-v2-sources-* copy of it (project-level, conditioned on the name).
        log_writer = gcp.projects.IAMMember(
            "builder-log-writer",
            project=args.project,
            role="roles/logging.logWriter",
            member=builder_member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        image_writer = gcp.artifactregistry.RepositoryIamMember(
            "builder-image-writer",
            project=args.project,
            location=args.region,
            repository=self.repository.name,
            role="roles/artifactregistry.writer",
            member=builder_member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        source_reader = gcp.storage.BucketIAMMember(
            "builder-source-reader",
            bucket=self.bucket.name,
            role="roles/storage.objectViewer",
            member=builder_member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Functions build from Cloud Functions' own copy of the archive (module docstring).
        gcf_sources_reader = gcp.projects.IAMMember(
            "builder-gcf-sources-reader",
            project=args.project,
            role="roles/storage.objectViewer",
            member=builder_member,
            condition={
                "title": "gcf-v2-sources buckets only",
                "description": "Cloud Functions builds fetch the archive from its own copy",
                "expression": GCF_SOURCES_CONDITION,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants = [log_writer, image_writer, source_reader, gcf_sources_reader]
        # A build reads and writes as ``builder`` the moment it starts: the grants must be
        # in effect, not only accepted (infra/iam/propagation.py).
        propagated = GrantPropagation(
            "builder-grants-propagated",
            GrantPropagationArgs(grants=grants),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.builder_grants: list[pulumi.Resource] = [*grants, propagated]
        """Everything a build run as ``builder`` needs, and the wait for it to take effect:
        builds wait for all of it."""
        self.builder_name = pulumi.Output.all(args.project, self.builder.email).apply(
            lambda parts: f"projects/{parts[0]}/serviceAccounts/{parts[1]}"
        )
        self.register_outputs(
            {
                "bucket": self.bucket.name,
                "repository": self.repository.id,
                "builder": self.builder.email,
            }
        )
