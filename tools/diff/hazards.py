"""What GCP cannot change in place, and what a replacement of a stateful resource costs.

A change to an immutable field makes Pulumi (the provider) replace the resource; a
registration may also declare ``replaceOnChanges``. Replacing one of the
:data:`STATEFUL_ADVICE` types loses data or traffic unless someone acts first.
"""

from __future__ import annotations

from infra.build.spec import IMAGE_INPUTS
from library import gcp_types

IMMUTABLE_FIELDS: dict[str, frozenset[str]] = {
    gcp_types.PUBSUB_SUBSCRIPTION: frozenset(
        {"name", "project", "topic", "filter", "enableMessageOrdering"}
    ),
    gcp_types.PUBSUB_TOPIC: frozenset({"name", "project"}),
    gcp_types.STORAGE_BUCKET: frozenset({"name", "project", "location"}),
    gcp_types.SECRET: frozenset({"secretId", "project", "replication"}),
    gcp_types.FIRESTORE_DATABASE: frozenset({"name", "project", "locationId"}),
    gcp_types.CLOUD_FUNCTION: frozenset({"name", "project", "location"}),
    gcp_types.CLOUD_RUN_SERVICE: frozenset({"name", "project", "location"}),
    gcp_types.SERVICE_ACCOUNT: frozenset({"accountId", "project"}),
    gcp_types.SCHEDULER_JOB: frozenset({"name", "project", "region"}),
    gcp_types.ARTIFACT_REPOSITORY: frozenset({"repositoryId", "project", "location", "format"}),
    gcp_types.STORAGE_BUCKET_OBJECT: frozenset({"name", "bucket", "source"}),
    gcp_types.FIRESTORE_BACKUP_SCHEDULE: frozenset({"database", "project"}),
    gcp_types.FIRESTORE_INDEX: frozenset(
        {"project", "database", "collection", "queryScope", "fields", "apiScope"}
    ),
    gcp_types.COMPUTE_NETWORK: frozenset({"name", "project", "autoCreateSubnetworks"}),
    gcp_types.COMPUTE_SUBNETWORK: frozenset({"name", "project", "network", "region"}),
    gcp_types.LOG_METRIC: frozenset({"name", "project"}),
    # Python dynamic resources (the image build, infra/build): its provider answers
    # "replace" for every input that shapes the image
    "pulumi-python:dynamic:Resource": frozenset(IMAGE_INPUTS),
}

STATEFUL_ADVICE: dict[str, str] = {
    gcp_types.PUBSUB_SUBSCRIPTION: (
        "replacement drops its backlog: drain it or seek first (and its IAM bindings are "
        "gone until recreated); pause publishers or snapshot+seek the new subscription "
        "(docs/runbooks/subscription-backlog.md)"
    ),
    gcp_types.PUBSUB_TOPIC: (
        "replacement deletes the topic: publishers fail and its subscriptions are detached "
        "(_deleted-topic_); drain subscribers and pause publishers first"
    ),
    gcp_types.STORAGE_BUCKET: (
        "replacement deletes the bucket and every object in it: copy the objects out "
        "first (gcloud storage rsync) or migrate to a new bucket name"
    ),
    gcp_types.SECRET: (
        "replacement deletes every secret version: export the current value first and "
        "add it back right after, or agents fail to start"
    ),
    gcp_types.FIRESTORE_DATABASE: (
        "replacement deletes the database and every document: export it first "
        "(gcloud firestore export gs://...) and plan the import"
    ),
}

REMOVAL_ADVICE = "deletion loses its data: confirm it is intended and export first"


def is_immutable(resource_type: str, top_level_field: str) -> bool:
    return top_level_field in IMMUTABLE_FIELDS.get(resource_type, frozenset())


def forces_replacement(resource_type: str, path: str, replace_on_changes: list[str]) -> bool:
    """Whether a change at ``path`` (``filter``, ``pushConfig.oidcToken.audience``)
    replaces the resource, by GCP's immutable fields or the registration's option."""
    head = path.split(".", 1)[0].split("[", 1)[0]
    if is_immutable(resource_type, head):
        return True
    for declared in replace_on_changes:
        if declared in ("*", path) or path.startswith((f"{declared}.", f"{declared}[")):
            return True
    return False
