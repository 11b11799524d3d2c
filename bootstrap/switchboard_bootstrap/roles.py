"""What a deployer of a Switchboard stack may do, derived from what the stack declares.

:data:`RESOURCE_ROLES` maps every resource type the main program registers (see the
``summary`` of ``rendered/<stack>.json``) to the predefined roles that create, update and
delete it. A test fails when the main program starts declaring a type this table lacks, so
the deployer's grants follow the program instead of a guess. :data:`ROLE_REASONS` says why
each role is there; docs/ci-cd.md carries the same table.

No primitive role (owner, editor, viewer) is ever granted. Two roles are broad, and are
named so here rather than hidden:

- ``roles/resourcemanager.projectIamAdmin`` can change *any* project-level binding. The
  program grants project-level roles to its own service accounts (``roles/datastore.user``:
  Firestore IAM has no finer resource; ``roles/logging.logWriter`` for the build account;
  ``roles/datastore.importExportAdmin`` for exports), and only this role (or owner) can do
  that. A deployer could therefore grant itself more; the policy pack and review of
  ``rendered/`` are what keep the program's grants honest.
- ``roles/iam.serviceAccountUser`` at project level lets the deployer attach any service
  account of the stack's project to a function, service or push subscription (actAs).
  The accounts it attaches are the ones the program itself creates, so they cannot be
  named in advance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RESOURCE_ROLES: dict[str, tuple[str, ...]] = {
    "gcp:artifactregistry/repository:Repository": ("roles/artifactregistry.admin",),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (
        "roles/artifactregistry.admin",
    ),
    "gcp:cloudfunctionsv2/function:Function": (
        "roles/cloudfunctions.developer",
        "roles/iam.serviceAccountUser",
    ),
    "gcp:cloudrunv2/service:Service": ("roles/run.admin", "roles/iam.serviceAccountUser"),
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": ("roles/run.admin",),
    "gcp:cloudscheduler/job:Job": ("roles/cloudscheduler.admin",),
    "gcp:compute/address:Address": ("roles/compute.networkAdmin",),
    "gcp:compute/firewall:Firewall": ("roles/compute.securityAdmin",),
    "gcp:compute/network:Network": ("roles/compute.networkAdmin",),
    "gcp:compute/router:Router": ("roles/compute.networkAdmin",),
    "gcp:compute/routerNat:RouterNat": ("roles/compute.networkAdmin",),
    "gcp:compute/subnetwork:Subnetwork": ("roles/compute.networkAdmin",),
    "gcp:firestore/backupSchedule:BackupSchedule": ("roles/datastore.admin",),
    "gcp:firestore/database:Database": ("roles/datastore.admin",),
    "gcp:firestore/field:Field": ("roles/datastore.admin",),
    "gcp:firestore/index:Index": ("roles/datastore.admin",),
    "gcp:logging/metric:Metric": ("roles/logging.configWriter",),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": ("roles/logging.configWriter",),
    "gcp:monitoring/alertPolicy:AlertPolicy": ("roles/monitoring.alertPolicyEditor",),
    "gcp:monitoring/dashboard:Dashboard": ("roles/monitoring.dashboardEditor",),
    "gcp:monitoring/notificationChannel:NotificationChannel": (
        "roles/monitoring.notificationChannelEditor",
    ),
    "gcp:projects/iAMMember:IAMMember": ("roles/resourcemanager.projectIamAdmin",),
    # Audit configs are part of the project's IAM policy (resourcemanager.projects.setIamPolicy).
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": ("roles/resourcemanager.projectIamAdmin",),
    "gcp:projects/service:Service": ("roles/serviceusage.serviceUsageAdmin",),
    "gcp:projects/serviceIdentity:ServiceIdentity": ("roles/serviceusage.serviceUsageAdmin",),
    "gcp:pubsub/subscription:Subscription": ("roles/pubsub.admin", "roles/iam.serviceAccountUser"),
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": ("roles/pubsub.admin",),
    "gcp:pubsub/topic:Topic": ("roles/pubsub.admin",),
    "gcp:pubsub/topicIAMMember:TopicIAMMember": ("roles/pubsub.admin",),
    "gcp:secretmanager/secret:Secret": ("roles/secretmanager.admin",),
    "gcp:secretmanager/secretIamMember:SecretIamMember": ("roles/secretmanager.admin",),
    "gcp:secretmanager/secretVersion:SecretVersion": ("roles/secretmanager.admin",),
    "gcp:serviceaccount/account:Account": ("roles/iam.serviceAccountAdmin",),
    "gcp:serviceaccount/iAMMember:IAMMember": ("roles/iam.serviceAccountAdmin",),
    "gcp:storage/bucket:Bucket": ("roles/storage.admin",),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("roles/storage.admin",),
    "gcp:storage/bucketObject:BucketObject": ("roles/storage.admin",),
    # The Cloud Run agent's image build (infra/build): Cloud Run's SubmitBuild
    # (run.builds.create, in run.admin) as the build account (actAs), which starts a Cloud
    # Build build in the caller's name (cloudbuild.builds.create: Google's source-deploy
    # guide grants run.sourceDeveloper *beside* run.admin for it; builds.viewer has only
    # get/list); then the build's status (get) and, if SubmitBuild named no build, a
    # look-up by tag (list). Refresh reads the image (artifactregistry.dockerimages.get,
    # in artifactregistry.admin above).
    "pulumi-python:dynamic:Resource": (
        "roles/run.admin",
        "roles/iam.serviceAccountUser",
        "roles/cloudbuild.builds.editor",
    ),
}
"""Resource type token -> the predefined roles its create/update/delete needs."""

OUTSIDE_THE_PROJECT: dict[str, str] = {
    "gcp:billing/budget:Budget": (
        "a budget lives on the billing account, not the project: grant the deployer "
        "roles/billing.costsManager on that billing account by hand, if a stack sets "
        "switchboard:budget.billingAccount"
    ),
}
"""Types the program may declare whose permission no project role can give."""

ROLE_REASONS: dict[str, str] = {
    "roles/cloudbuild.builds.editor": "start the Cloud Run agent's image build "
    "(SubmitBuild creates a Cloud Build build as the caller: cloudbuild.builds.create), "
    "follow it to its end and read its digest and log link (get, list)",
    "roles/artifactregistry.admin": "create the image repository and grant the build "
    "account writer on it (repository IAM needs admin)",
    "roles/cloudfunctions.developer": "create, update and delete the agents' 2nd-gen "
    "functions (no IAM on functions: invokers are granted on the Cloud Run service)",
    "roles/cloudscheduler.admin": "the scheduled ticks (Cloud Scheduler jobs to Pub/Sub)",
    "roles/compute.networkAdmin": "opt-in VPC egress: network, subnet, router, Cloud NAT, "
    "static address",
    "roles/compute.securityAdmin": "opt-in VPC egress: the firewall rules (networkAdmin "
    "excludes firewalls)",
    "roles/datastore.admin": "the Firestore database, its backup schedules, TTL fields and "
    "indexes (no narrower predefined role creates databases; it can read the data too)",
    "roles/iam.serviceAccountAdmin": "create the per-agent, invoker, build and export "
    "service accounts, and bindings on them (the Pub/Sub agent's token creator)",
    "roles/iam.serviceAccountUser": "actAs: attach those accounts to functions, services "
    "and push subscriptions' OIDC tokens (project-wide: they do not exist beforehand)",
    "roles/logging.configWriter": "the log-based metric and the _Default bucket's retention",
    "roles/monitoring.alertPolicyEditor": "the alert policies",
    "roles/monitoring.dashboardEditor": "the dashboard",
    "roles/monitoring.notificationChannelEditor": "the alert e-mail channel",
    "roles/pubsub.admin": "topics, subscriptions and their IAM (publisher/subscriber "
    "grants need setIamPolicy, which pubsub.editor lacks); tools.verify reads them",
    "roles/resourcemanager.projectIamAdmin": "project-level IAM members (datastore.user, "
    "logging.logWriter, datastore.importExportAdmin): broad, can change any binding",
    "roles/run.admin": "the Cloud Run service and run.invoker grants on every agent's "
    "service (run.developer cannot set IAM); tools.verify reads them",
    "roles/secretmanager.admin": "the secrets, their accessor grants and, from config, "
    "their versions",
    "roles/serviceusage.serviceUsageAdmin": "enable the stack's APIs and materialise the "
    "Pub/Sub service agent",
    "roles/storage.admin": "source, export and snapshot buckets, their IAM and objects",
}
"""Why each deployer role is granted (the same text as docs/ci-cd.md's table)."""

PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})

STATE_BUCKET_ROLE = "roles/storage.objectAdmin"
"""Deployers read and write their own stack's state, history, backup and lock objects
(an IAM condition on the object names keeps them out of the other stacks' state)."""
STATE_LIST_ROLE = "roles/storage.legacyBucketReader"
"""Bucket metadata and object listing (listing is checked on the bucket, where an
object-name condition cannot hold); reads no object."""
KEY_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
"""Deployers unwrap their stack's data key and, on ``pulumi config set --secret``, wrap one."""
IMPERSONATION_ROLE = "roles/iam.workloadIdentityUser"


@dataclass(frozen=True)
class ProgramRead:
    """A data source (invoke) the main program calls while it runs, and what it needs."""

    permission: str
    """The IAM permission the provider's read needs in the stack's project."""
    role: str
    """The narrowest predefined role that holds it (read-only)."""
    at_preview: bool
    """The program calls it in a preview too (so the previewer needs ``role``)."""
    deployer_role: str
    """The deployer role (:data:`RESOURCE_ROLES`) that already holds ``permission``."""
    why: str
    source: str


PROGRAM_READS: dict[str, ProgramRead] = {
    "gcp:organizations/getProject:getProject": ProgramRead(
        permission="resourcemanager.projects.get",
        role="roles/browser",
        at_preview=True,
        deployer_role="roles/resourcemanager.projectIamAdmin",
        why="the budget's project number (infra/cost/guards.py, only where "
        "switchboard:budget.billingAccount is set); its argument is known, so it runs in a "
        "preview too",
        source="https://cloud.google.com/iam/docs/roles-permissions/browser",
    ),
    "gcp:secretmanager/getSecretVersion:getSecretVersion": ProgramRead(
        permission="secretmanager.versions.get",
        role="roles/secretmanager.viewer",
        at_preview=False,
        deployer_role="roles/secretmanager.admin",
        why="each external:<N> secret version exists (infra/secrets/store.py); metadata only "
        "(fetch_secret_data=False: no versions.access), and only in an update: the program "
        "skips it in a preview",
        source="https://cloud.google.com/secret-manager/docs/access-control; "
        "terraform-provider-google data_source_secret_manager_secret_version.go",
    ),
}
"""Invoke token -> what reading it needs. Every invoke a render records (both modes) must
have an entry (tests/bootstrap), and a preview-mode render's invokes must all be
``at_preview`` (``make preflight``, tools/preflight/preview_rules.py)."""


def previewer_roles(reads: Mapping[str, ProgramRead] = PROGRAM_READS) -> dict[str, str]:
    """The previewer's roles in each stack project: those of the reads the program makes
    in a preview, and nothing else (`pulumi preview` without ``--refresh`` reads no
    resource: the engine diffs the program against the state)."""
    roles: dict[str, list[str]] = {}
    for token, read in sorted(reads.items()):
        if read.at_preview:
            roles.setdefault(read.role, []).append(f"{token.rsplit(':', 1)[-1]}: {read.why}")
    return {role: "; ".join(why) for role, why in sorted(roles.items())}


def unmapped_reads(tokens: set[str]) -> list[str]:
    """The invoke tokens :data:`PROGRAM_READS` has no entry for, sorted."""
    return sorted(tokens - set(PROGRAM_READS))


PREVIEWER_ROLES: dict[str, str] = previewer_roles()
"""What the pull-request previewer gets in each stack project (read-only), derived."""
PREVIEWER_STATE_ROLE = "roles/storage.objectViewer"
"""Previews read state; on a bucket backend they take no lock (pulumi/pulumi#13948)."""
PREVIEWER_KEY_ROLE = "roles/cloudkms.cryptoKeyDecrypter"


def deployer_roles(resource_types: set[str] | None = None) -> tuple[str, ...]:
    """The project roles a deployer needs for ``resource_types`` (default: every type the
    program may declare), sorted. Unknown types raise: the table must grow first."""
    types = set(RESOURCE_ROLES) if resource_types is None else resource_types
    unknown = sorted(types - set(RESOURCE_ROLES) - set(OUTSIDE_THE_PROJECT))
    if unknown:
        raise KeyError(f"no deployer roles known for {', '.join(unknown)} (see roles.py)")
    return tuple(sorted({role for t in types for role in RESOURCE_ROLES.get(t, ())}))
