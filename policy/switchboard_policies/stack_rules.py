"""Stack policies: ``(resources, context) -> [Finding, ...]``: rules that need more than
one resource (references between resources, uniqueness, what must exist)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .model import Context, Finding, Resource, get
from .rules import FUNCTION, RUN_SERVICE, SUBSCRIPTION

DATABASE = "gcp:firestore/database:Database"
BACKUP_SCHEDULE = "gcp:firestore/backupSchedule:BackupSchedule"
PROTECTED_TYPES = (
    "gcp:secretmanager/secret:Secret",
    "gcp:storage/bucket:Bucket",
    DATABASE,
    RUN_SERVICE,
    "gcp:sql/databaseInstance:DatabaseInstance",
)
DEFAULT_DATABASE = "(default)"


def _topic_key(value: str) -> str:
    """``projects/p/topics/t`` and ``t`` name the same topic."""
    return value.rsplit("/topics/", 1)[-1]


def dead_letter_topic_has_subscription(
    resources: Sequence[Resource], context: Context
) -> list[Finding]:
    """Every dead-letter topic has a subscription (else forwarded messages are lost)."""
    subscriptions = [r for r in resources if r.type == SUBSCRIPTION]
    subscribed = {
        _topic_key(t) for r in subscriptions if isinstance(t := r.props.get("topic"), str)
    }
    findings = []
    for r in subscriptions:
        topic = get(r.props, "deadLetterPolicy.deadLetterTopic")
        if isinstance(topic, str) and topic and _topic_key(topic) not in subscribed:
            findings.append(
                Finding(
                    f"dead-letter topic {topic} has no subscription: messages dead-lettered "
                    "there are lost",
                    r.label,
                )
            )
    return findings


def _runtime_identity(r: Resource) -> object:
    if r.type == FUNCTION:
        return get(r.props, "serviceConfig.serviceAccountEmail")
    return get(r.props, "template.serviceAccount")


def one_service_account_per_agent(resources: Sequence[Resource], context: Context) -> list[Finding]:
    """Each function/service runs as its own service account (never the default one)."""
    owners: dict[str, list[str]] = defaultdict(list)
    findings = []
    for r in resources:
        if r.type not in (FUNCTION, RUN_SERVICE):
            continue
        email = _runtime_identity(r)
        if email is None or email == "":
            findings.append(
                Finding(
                    "no service account set: it would run as the default compute service "
                    "account (project Editor)",
                    r.label,
                )
            )
        elif isinstance(email, str):
            owners[email].append(r.label)
    for email, labels in sorted(owners.items()):
        if len(labels) > 1:
            findings += [
                Finding(f"service account {email} is shared with {sorted(set(labels) - {lb})}", lb)
                for lb in labels
            ]
    return findings


def _protected(r: Resource) -> bool:
    return (
        r.protect
        or r.props.get("deletionProtection") is True
        or r.props.get("deleteProtectionState") == "DELETE_PROTECTION_ENABLED"
    )


def prod_deletion_protection(resources: Sequence[Resource], context: Context) -> list[Finding]:
    """In prod, stateful resources are protected (``protect`` or deletion protection)."""
    if not context.is_prod:
        return [Finding(f"skipped: stack {context.stack!r} is not prod", note=True)]
    return [
        Finding(
            "stateful resource in prod without deletion protection: set protect=True "
            "(switchboard:deletionProtection) or the resource's deletionProtection",
            r.label,
        )
        for r in resources
        if r.type in PROTECTED_TYPES and not _protected(r)
    ]


def prod_firestore_backups(resources: Sequence[Resource], context: Context) -> list[Finding]:
    """In prod, every Firestore database has a backup schedule."""
    if not context.is_prod:
        return [Finding(f"skipped: stack {context.stack!r} is not prod", note=True)]
    databases = [r for r in resources if r.type == DATABASE]
    if not databases:
        return [
            Finding(
                f"skipped: no {DATABASE} in this stack yet; enforced as soon as one is declared",
                note=True,
            )
        ]
    schedules = [r for r in resources if r.type == BACKUP_SCHEDULE]
    scheduled = {str(r.props.get("database") or DEFAULT_DATABASE) for r in schedules}
    findings = []
    for db in databases:
        name = db.props.get("name") or DEFAULT_DATABASE
        if not isinstance(name, str):  # unknown during preview: any schedule will do
            covered = bool(schedules)
        else:
            covered = any(s == name or s.endswith(f"/databases/{name}") for s in scheduled)
        if not covered:
            findings.append(
                Finding(
                    f"Firestore database {name} has no {BACKUP_SCHEDULE} (daily and/or weekly)",
                    db.label,
                )
            )
    return findings
