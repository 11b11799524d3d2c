"""Which Google API each resource type needs enabled, and the stack transformation that
makes every resource wait for it.

Mocks create everything at once; a real first ``pulumi up`` on an empty project fails
with "API has not been used in project ... or it is disabled" for any resource created
before its ``projects.Service``. Pulumi does not pass a component's ``depends_on`` to its
children, so instead of trusting each component to forward it, one stack transformation
(registered by ``infra.program.build`` right after the APIs are declared) adds the
``projects.Service`` of every API a resource's type needs to that resource's
``depends_on``, children of components included.

A custom resource type missing from :data:`RESOURCE_APIS` stops the program with a
message naming it: a new resource type cannot ship without saying which API it needs.
The preflight (``tools/preflight``) checks the same table against the offline render.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

ARTIFACT_REGISTRY = "artifactregistry.googleapis.com"
BILLING_BUDGETS = "billingbudgets.googleapis.com"
CLOUD_BUILD = "cloudbuild.googleapis.com"
CLOUD_FUNCTIONS = "cloudfunctions.googleapis.com"
CLOUD_SCHEDULER = "cloudscheduler.googleapis.com"
COMPUTE = "compute.googleapis.com"
FIRESTORE = "firestore.googleapis.com"
IAM = "iam.googleapis.com"
LOGGING = "logging.googleapis.com"
MONITORING = "monitoring.googleapis.com"
PUBSUB = "pubsub.googleapis.com"
RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"
RUN = "run.googleapis.com"
SECRET_MANAGER = "secretmanager.googleapis.com"
SERVICE_USAGE = "serviceusage.googleapis.com"
STORAGE = "storage.googleapis.com"

PREENABLED_APIS: frozenset[str] = frozenset({SERVICE_USAGE})
"""Enabled on every new project (and needed to enable the others): nothing declares it."""

DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"
"""Pulumi's one type token for every Python dynamic resource (the agent image build)."""

RESOURCE_APIS: Mapping[str, tuple[str, ...]] = {
    "gcp:artifactregistry/repository:Repository": (ARTIFACT_REGISTRY,),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (ARTIFACT_REGISTRY,),
    "gcp:billing/budget:Budget": (BILLING_BUDGETS,),
    # A 2nd-gen function is built by Cloud Build from a GCS archive into Artifact
    # Registry, and served by Cloud Run.
    "gcp:cloudfunctionsv2/function:Function": (
        CLOUD_FUNCTIONS,
        CLOUD_BUILD,
        ARTIFACT_REGISTRY,
        RUN,
        STORAGE,
    ),
    "gcp:cloudrunv2/service:Service": (RUN, ARTIFACT_REGISTRY),
    "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": (RUN,),
    "gcp:cloudscheduler/job:Job": (CLOUD_SCHEDULER,),
    "gcp:compute/address:Address": (COMPUTE,),
    "gcp:compute/firewall:Firewall": (COMPUTE,),
    "gcp:compute/network:Network": (COMPUTE,),
    "gcp:compute/router:Router": (COMPUTE,),
    "gcp:compute/routerNat:RouterNat": (COMPUTE,),
    "gcp:compute/subnetwork:Subnetwork": (COMPUTE,),
    "gcp:firestore/backupSchedule:BackupSchedule": (FIRESTORE,),
    "gcp:firestore/database:Database": (FIRESTORE,),
    "gcp:firestore/field:Field": (FIRESTORE,),
    "gcp:firestore/index:Index": (FIRESTORE,),
    "gcp:logging/metric:Metric": (LOGGING,),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": (LOGGING,),
    "gcp:monitoring/alertPolicy:AlertPolicy": (MONITORING,),
    "gcp:monitoring/dashboard:Dashboard": (MONITORING,),
    "gcp:monitoring/notificationChannel:NotificationChannel": (MONITORING,),
    # Project IAM is read-modify-write of the project's policy (Resource Manager).
    "gcp:projects/iAMMember:IAMMember": (RESOURCE_MANAGER,),
    # Audit configs live in the project's IAM policy (read-modify-write, Resource Manager).
    "gcp:projects/iAMAuditConfig:IAMAuditConfig": (RESOURCE_MANAGER,),
    "gcp:projects/service:Service": (SERVICE_USAGE,),
    "gcp:projects/serviceIdentity:ServiceIdentity": (SERVICE_USAGE,),
    "gcp:pubsub/subscription:Subscription": (PUBSUB,),
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember": (PUBSUB,),
    "gcp:pubsub/topic:Topic": (PUBSUB,),
    "gcp:pubsub/topicIAMMember:TopicIAMMember": (PUBSUB,),
    "gcp:secretmanager/secret:Secret": (SECRET_MANAGER,),
    "gcp:secretmanager/secretIamMember:SecretIamMember": (SECRET_MANAGER,),
    "gcp:secretmanager/secretVersion:SecretVersion": (SECRET_MANAGER,),
    "gcp:serviceaccount/account:Account": (IAM,),
    "gcp:serviceaccount/iAMMember:IAMMember": (IAM,),
    "gcp:storage/bucket:Bucket": (STORAGE,),
    "gcp:storage/bucketIAMMember:BucketIAMMember": (STORAGE,),
    "gcp:storage/bucketObject:BucketObject": (STORAGE,),
    # The image build (infra/build): Cloud Run's source build runs on Cloud Build, reads
    # the archive from GCS and pushes to Artifact Registry.
    DYNAMIC_RESOURCE: (RUN, CLOUD_BUILD, ARTIFACT_REGISTRY, STORAGE),
}
"""Pulumi type token -> the APIs that must be enabled before it is created."""

SERVICE_TYPE = "gcp:projects/service:Service"


class UnknownResourceTypeError(ValueError):
    """A resource type with no entry in :data:`RESOURCE_APIS`."""


def apis_for_type(token: str) -> tuple[str, ...]:
    """The APIs ``token`` needs; raises for a type the table does not know."""
    try:
        return RESOURCE_APIS[token]
    except KeyError:
        raise UnknownResourceTypeError(
            f"resource type {token} has no entry in infra/project/apis.py RESOURCE_APIS: "
            "add the Google APIs it needs (the first `pulumi up` on an empty project "
            "creates it only after they are enabled)"
        ) from None


def api_dependencies(
    services: Mapping[str, pulumi.Resource],
) -> pulumi.ResourceTransformation:
    """A stack transformation: each custom resource also depends on its APIs' Services.

    ``services`` maps an API name to its ``projects.Service``. An API the type needs that
    the stack does not declare (and is not pre-enabled) is an error in the program.
    """

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
        if not isinstance(args.resource, pulumi.CustomResource) or args.type_ == SERVICE_TYPE:
            return None  # type: ignore[return-value]  # None keeps the resource as it is
        needed = sorted(set(apis_for_type(args.type_)) - PREENABLED_APIS)
        missing = [api for api in needed if api not in services]
        if missing:
            raise UnknownResourceTypeError(
                f"{args.type_} {args.name!r} needs {', '.join(missing)}, which the stack does "
                "not enable: add it to infra/project/services.py REQUIRED_APIS "
                "(or to the feature's extra APIs in infra/program.py apis_for)"
            )
        extra = [services[api] for api in needed]
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=extra))
        return pulumi.ResourceTransformationResult(args.props, opts)

    return transform
