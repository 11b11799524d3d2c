"""Scheduled managed exports of the database into a locked-down bucket.

Managed backups keep at most 14 weeks; exports are how a stack keeps data longer. A Cloud
Scheduler job calls the Firestore Admin API's ``exportDocuments`` directly (no function
in between) with an OAuth token of a dedicated service account that may do exactly that:
``roles/datastore.importExportAdmin`` on the project (Firestore IAM has no finer
resource) and write access to this one bucket.

Who writes the files: Google's export guide
(https://cloud.google.com/firestore/docs/manage-data/export-import, "Service agent
permissions") says export and import operations authorise their Cloud Storage calls as
the Firestore service agent, ``service-<number>@gcp-sa-firestore.iam.gserviceaccount.com``,
and a failing one reports "service-...@gcp-sa-firestore... does not have
storage.buckets.get access" (seen in jkomoros/card-web #579). So that agent is made to
exist (``projects.ServiceIdentity``, as Firestore's CMEK guide does with ``gcloud beta
services identity create --service=firestore.googleapis.com``) and gets
``roles/storage.legacyBucketWriter`` on this bucket: storage.buckets.get and objects
create/list/delete, nothing on other buckets. The caller keeps legacyBucketWriter too,
narrower than the Storage Admin the guide names for callers. Older databases that
authorise exports as the App Engine default service account instead would fail in a
secure-by-default organisation (that account gets no Editor role); a database this
program creates uses the service agent.

Where the stack asks (``firestore.exports``): the retention policy is locked
(``lockRetentionPolicy``; Bucket Lock is irreversible), and Cloud Storage Data Access
audit logs record who read or wrote an export (``auditDataAccess``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.firestore.schema import DATABASE_ID
from infra.settings import ExportSettings

EXPORT_ACCOUNT_ID = "sb-firestore-export"
ROLE_IMPORT_EXPORT_ADMIN = "roles/datastore.importExportAdmin"
ROLE_BUCKET_WRITER = "roles/storage.legacyBucketWriter"
"""storage.buckets.get + objects create/list/delete on this bucket only (no object reads,
no bucket administration). Google's guide grants storage.admin; this is narrower."""
FIRESTORE_API = "firestore.googleapis.com"
STORAGE_API = "storage.googleapis.com"
AUDITED_LOG_TYPES = ("DATA_READ", "DATA_WRITE")
"""Data Access audit log types (ADMIN_READ is not needed: bucket metadata reads)."""
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DAY_SECONDS = 86400
MULTI_REGION_BUCKETS = {"eur3": "EU", "nam5": "US", "nam7": "US"}


def bucket_location(firestore_location: str) -> str:
    """A bucket near the database: its multi-region, or the same region."""
    return MULTI_REGION_BUCKETS.get(firestore_location, firestore_location.upper())


def export_uri(project: str) -> str:
    return (
        f"https://firestore.googleapis.com/v1/projects/{project}"
        f"/databases/{DATABASE_ID}:exportDocuments"
    )


def export_body(bucket_name: str) -> str:
    """Base64 request body. A bare bucket prefix: Firestore adds a timestamped folder."""
    body = json.dumps({"outputUriPrefix": f"gs://{bucket_name}"}, sort_keys=True)
    return base64.b64encode(body.encode()).decode()


@dataclass(frozen=True)
class FirestoreExportsArgs:
    project: str
    region: str
    firestore_location: str
    settings: ExportSettings
    database: gcp.firestore.Database
    protect: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class FirestoreExports(pulumi.ComponentResource):
    """Bucket (uniform access, public access prevention enforced, lifecycle delete after
    the stack's retention, retention policy), export identity, its grants and the job."""

    bucket: gcp.storage.Bucket
    service_account: gcp.serviceaccount.Account
    job: gcp.cloudscheduler.Job

    def __init__(
        self, name: str, args: FirestoreExportsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:firestore:FirestoreExports", name, None, opts)
        settings = args.settings
        deps = list(args.depends_on)
        retention_policy = (
            {
                "retention_period": str(settings.minimum_retention_days * DAY_SECONDS),
                # Irreversible once applied (Bucket Lock): only where the stack says so.
                "is_locked": settings.lock_retention_policy,
            }
            if settings.minimum_retention_days
            else None
        )
        bucket_name = f"{args.project}-firestore-exports"
        self.bucket = gcp.storage.Bucket(
            "firestore-exports",
            project=args.project,
            name=bucket_name,
            location=bucket_location(args.firestore_location),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=not args.protect,
            versioning={"enabled": False},
            soft_delete_policy={"retention_duration_seconds": 7 * DAY_SECONDS},
            lifecycle_rules=[
                {"action": {"type": "Delete"}, "condition": {"age": settings.retention_days}}
            ],
            retention_policy=retention_policy,
            labels={**args.labels, "role": "firestore-exports"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=deps),
        )
        self.service_account = gcp.serviceaccount.Account(
            "firestore-export",
            project=args.project,
            account_id=EXPORT_ACCOUNT_ID,
            display_name="Switchboard Firestore exports (Cloud Scheduler)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        member = self.service_account.email.apply(lambda e: f"serviceAccount:{e}")
        child = pulumi.ResourceOptions(parent=self)
        grants = [
            # Project-level: Firestore IAM has no resource finer than the project.
            gcp.projects.IAMMember(
                "firestore-export-admin",
                project=args.project,
                role=ROLE_IMPORT_EXPORT_ADMIN,
                member=member,
                opts=child,
            ),
            gcp.storage.BucketIAMMember(
                "firestore-export-writer",
                bucket=self.bucket.name,
                role=ROLE_BUCKET_WRITER,
                member=member,
                opts=child,
            ),
        ]
        # The Firestore service agent writes the export's files (module docstring).
        agent = gcp.projects.ServiceIdentity(
            "firestore-service-agent",
            project=args.project,
            service=FIRESTORE_API,
            opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
        )
        grants.append(
            gcp.storage.BucketIAMMember(
                "firestore-agent-writer",
                bucket=self.bucket.name,
                role=ROLE_BUCKET_WRITER,
                member=agent.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child,
            )
        )
        if settings.audit_data_access:
            # Project-wide for Cloud Storage: an audit config has no finer resource.
            gcp.projects.IAMAuditConfig(
                "storage-data-access",
                project=args.project,
                service=STORAGE_API,
                audit_log_configs=[{"log_type": t} for t in AUDITED_LOG_TYPES],
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )
        self.job = gcp.cloudscheduler.Job(
            "firestore-export",
            project=args.project,
            region=args.region,
            name="firestore-export",
            description=(
                f"Managed export of Firestore {DATABASE_ID} to gs://{bucket_name} "
                f"(kept {settings.retention_days} days)"
            ),
            schedule=settings.schedule,
            time_zone=settings.time_zone,
            attempt_deadline="320s",
            retry_config={"retry_count": 3, "min_backoff_duration": "60s"},
            http_target={
                "uri": export_uri(args.project),
                "http_method": "POST",
                "headers": {"Content-Type": "application/json"},
                "body": export_body(bucket_name),
                "oauth_token": {
                    "service_account_email": self.service_account.email,
                    "scope": CLOUD_PLATFORM_SCOPE,
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                delete_before_replace=True,
                depends_on=[*grants, args.database, *deps],
            ),
        )
        self.register_outputs(
            {"bucket": self.bucket.name, "job": self.job.name, "identity": member}
        )
