"""The ``(default)`` Firestore database, its backup schedules, TTL policies and indexes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.firestore.schema import (
    COMPOSITE_INDEXES,
    DATABASE_ID,
    TTL_FIELDS,
    UNINDEXED_FIELDS,
    CollectionField,
)
from infra.settings import FirestoreSettings

DAY_SECONDS = 86400
WEEK_SECONDS = 7 * DAY_SECONDS


@dataclass(frozen=True)
class FirestoreDatabaseArgs:
    project: str
    settings: FirestoreSettings
    protect: bool = False
    """Prod: Pulumi ``protect``, GCP delete protection and ``deletion_policy=PREVENT``."""
    depends_on: Sequence[pulumi.Resource] = ()


def backup_retentions(settings: FirestoreSettings) -> dict[str, str]:
    """recurrence -> retention duration, for each enabled schedule (at most one of each)."""
    backups = settings.backups
    retentions: dict[str, str] = {}
    if backups.daily_retention_days:
        retentions["daily"] = f"{backups.daily_retention_days * DAY_SECONDS}s"
    if backups.weekly_retention_weeks:
        retentions["weekly"] = f"{backups.weekly_retention_weeks * WEEK_SECONDS}s"
    return retentions


class FirestoreDatabase(pulumi.ComponentResource):
    """Firestore in Native mode at the stack's location.

    Secure defaults: App Engine integration off; in a protected stack the database cannot
    be deleted by Pulumi (``protect``), by the provider (``deletion_policy=PREVENT``) or in
    GCP (``delete_protection_state``). Backup schedules follow the stack; each TTL field,
    unindexed field and composite index in :mod:`infra.firestore.schema` is declared
    against it.
    """

    database: gcp.firestore.Database
    backup_schedules: dict[str, gcp.firestore.BackupSchedule]

    def __init__(
        self, name: str, args: FirestoreDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:firestore:FirestoreDatabase", name, None, opts)
        settings = args.settings
        self.database = gcp.firestore.Database(
            "firestore",
            project=args.project,
            name=DATABASE_ID,
            location_id=settings.location,
            type="FIRESTORE_NATIVE",
            app_engine_integration_mode="DISABLED",
            point_in_time_recovery_enablement=(
                "POINT_IN_TIME_RECOVERY_ENABLED"
                if settings.point_in_time_recovery
                else "POINT_IN_TIME_RECOVERY_DISABLED"
            ),
            delete_protection_state=(
                "DELETE_PROTECTION_ENABLED" if args.protect else "DELETE_PROTECTION_DISABLED"
            ),
            deletion_policy="PREVENT" if args.protect else "DELETE",
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=list(args.depends_on)
            ),
        )
        on_database = pulumi.ResourceOptions(parent=self, depends_on=[self.database])
        self.backup_schedules = {}
        for recurrence, retention in backup_retentions(settings).items():
            schedule: dict[str, object] = {}
            if recurrence == "daily":
                schedule["daily_recurrence"] = {}
            else:
                schedule["weekly_recurrence"] = {"day": settings.backups.weekly_day}
            self.backup_schedules[recurrence] = gcp.firestore.BackupSchedule(
                f"firestore-{recurrence}-backups",
                project=args.project,
                database=self.database.name,
                retention=retention,
                opts=on_database,
                **schedule,  # type: ignore[arg-type]
            )

        def field_settings(target: CollectionField, ttl: bool) -> gcp.firestore.Field:
            # An empty index config drops the field's single-field indexes: an ever-rising
            # timestamp index is a write hotspot, and nothing queries these fields.
            suffix = "ttl" if ttl else "unindexed"
            return gcp.firestore.Field(
                f"{target.collection}-{target.field}-{suffix}".replace("_", "-"),
                project=args.project,
                database=self.database.name,
                collection=target.collection,
                field=target.field,
                ttl_config={} if ttl else None,
                index_config={},
                opts=on_database,
            )

        self.ttl_fields = [field_settings(f, ttl=True) for f in TTL_FIELDS]
        self.unindexed_fields = [field_settings(f, ttl=False) for f in UNINDEXED_FIELDS]
        self.indexes = [
            gcp.firestore.Index(
                index.name,
                project=args.project,
                database=self.database.name,
                collection=index.collection,
                query_scope="COLLECTION",
                api_scope="ANY_API",
                fields=[{"field_path": path, "order": order} for path, order in index.fields],
                opts=on_database,
            )
            for index in COMPOSITE_INDEXES
        ]
        self.register_outputs(
            {
                "database": self.database.name,
                "backup_schedules": {k: v.id for k, v in self.backup_schedules.items()},
            }
        )
