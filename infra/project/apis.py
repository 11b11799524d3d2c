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

from library import gcp_types

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
    gcp_types.ARTIFACT_REPOSITORY: (ARTIFACT_REGISTRY,),
    gcp_types.ARTIFACT_REPOSITORY_IAM_MEMBER: (ARTIFACT_REGISTRY,),
    gcp_types.BILLING_BUDGET: (BILLING_BUDGETS,),
    # A 2nd-gen function is built by Cloud Build from a GCS archive into Artifact
    # Registry, and served by Cloud Run.
    gcp_types.CLOUD_FUNCTION: (
        CLOUD_FUNCTIONS,
        CLOUD_BUILD,
        ARTIFACT_REGISTRY,
        RUN,
        STORAGE,
    ),
    gcp_types.CLOUD_RUN_SERVICE: (RUN, ARTIFACT_REGISTRY),
    gcp_types.CLOUD_RUN_SERVICE_IAM_MEMBER: (RUN,),
    gcp_types.SCHEDULER_JOB: (CLOUD_SCHEDULER,),
    gcp_types.COMPUTE_ADDRESS: (COMPUTE,),
    gcp_types.COMPUTE_FIREWALL: (COMPUTE,),
    gcp_types.COMPUTE_NETWORK: (COMPUTE,),
    gcp_types.COMPUTE_ROUTER: (COMPUTE,),
    gcp_types.COMPUTE_ROUTER_NAT: (COMPUTE,),
    gcp_types.COMPUTE_SUBNETWORK: (COMPUTE,),
    gcp_types.FIRESTORE_BACKUP_SCHEDULE: (FIRESTORE,),
    gcp_types.FIRESTORE_DATABASE: (FIRESTORE,),
    gcp_types.FIRESTORE_FIELD: (FIRESTORE,),
    gcp_types.FIRESTORE_INDEX: (FIRESTORE,),
    gcp_types.LOG_METRIC: (LOGGING,),
    gcp_types.LOG_BUCKET_CONFIG: (LOGGING,),
    gcp_types.ALERT_POLICY: (MONITORING,),
    gcp_types.DASHBOARD: (MONITORING,),
    gcp_types.NOTIFICATION_CHANNEL: (MONITORING,),
    # Project IAM is read-modify-write of the project's policy (Resource Manager).
    gcp_types.PROJECT_IAM_MEMBER: (RESOURCE_MANAGER,),
    # Audit configs live in the project's IAM policy (read-modify-write, Resource Manager).
    gcp_types.PROJECT_IAM_AUDIT_CONFIG: (RESOURCE_MANAGER,),
    gcp_types.PROJECT_SERVICE: (SERVICE_USAGE,),
    gcp_types.PROJECT_SERVICE_IDENTITY: (SERVICE_USAGE,),
    gcp_types.PUBSUB_SUBSCRIPTION: (PUBSUB,),
    gcp_types.PUBSUB_SUBSCRIPTION_IAM_MEMBER: (PUBSUB,),
    gcp_types.PUBSUB_TOPIC: (PUBSUB,),
    gcp_types.PUBSUB_TOPIC_IAM_MEMBER: (PUBSUB,),
    gcp_types.SECRET: (SECRET_MANAGER,),
    gcp_types.SECRET_IAM_MEMBER: (SECRET_MANAGER,),
    gcp_types.SECRET_VERSION: (SECRET_MANAGER,),
    gcp_types.SERVICE_ACCOUNT: (IAM,),
    gcp_types.SERVICE_ACCOUNT_IAM_MEMBER: (IAM,),
    gcp_types.STORAGE_BUCKET: (STORAGE,),
    gcp_types.STORAGE_BUCKET_IAM_MEMBER: (STORAGE,),
    gcp_types.STORAGE_BUCKET_OBJECT: (STORAGE,),
    # The image build (infra/build): Cloud Run's source build runs on Cloud Build, reads
    # the archive from GCS and pushes to Artifact Registry.
    DYNAMIC_RESOURCE: (RUN, CLOUD_BUILD, ARTIFACT_REGISTRY, STORAGE),
}
"""Pulumi type token -> the APIs that must be enabled before it is created."""


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
        if (
            not isinstance(args.resource, pulumi.CustomResource)
            or args.type_ == gcp_types.PROJECT_SERVICE
        ):
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
