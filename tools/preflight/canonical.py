"""A clean second ``pulumi up``: every field the program sets, in the form the API returns.

Google's APIs return some fields normalised: proto3's JSON mapping leaves out fields that
hold their default value, durations come back as whole seconds, some values come back in
another case or with Google's own additions. Where terraform-provider-google (which
pulumi-gcp wraps) does not suppress the difference, a value written in any other form
shows an update on every ``pulumi up``, forever. Each rule below names the field, the form
the API returns, and its source: the provider's resource file (``google/services/...``,
read at terraform-provider-google e03b762, 2026-08-21) or the issue that reports the
diff. ``tests/tools/test_preflight_canonical.py`` breaks a real render for every rule.

Values the render cannot know (``[unknown]`` in a preview-mode render, ``[secret]``) are
skipped: a rule judges only what the program wrote.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from library import gcp_types
from tools.preflight.findings import Finding, StackFacts
from tools.preflight.graph import Render
from tools.render.normalise import SECRET, UNKNOWN

RULE = "api-canonical-form"
SECONDS = re.compile(r"^\d+s$")
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
PROTO3_DEFAULTS: tuple[Any, ...] = (0, "", False, [], {})
ENUM_DEFAULTS = re.compile(r"(_UNSPECIFIED|^ALIGN_NONE|^REDUCE_NONE)$")


@dataclass(frozen=True)
class CanonicalRule:
    """One field and the form the API returns it in."""

    type: str
    path: str
    """Dotted input path; ``[]`` iterates a list, ``*`` a map's values (camelCase, as in
    the render). A path starting ``json:<field>`` parses that field as JSON first."""
    form: str
    """The canonical form, in words (printed with a finding)."""
    ok: Callable[[Any], bool]
    source: str
    bad_example: Any
    """A value the API would return differently (the tests inject it)."""


def _seconds_between(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and bool(SECONDS.match(v)) and low <= int(v[:-1]) <= high


def _is_seconds(value: Any) -> bool:
    return isinstance(value, str) and bool(SECONDS.match(value))


def _no_proto3_defaults(value: Any, in_map: bool = False) -> bool:
    """No field holds its proto3 default (maps keep every entry, so ``labels`` is exempt)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "labels":
                continue
            if not in_map and any(item == d and type(item) is type(d) for d in PROTO3_DEFAULTS):
                return False
            if isinstance(item, str) and ENUM_DEFAULTS.search(item):
                return False
            if not _no_proto3_defaults(item):
                return False
        return True
    if isinstance(value, list):
        return all(_no_proto3_defaults(item) for item in value)
    return True


def _labels_ok(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str)
        and LABEL_KEY.match(k)
        and not k.startswith("goog-")
        and isinstance(v, str)
        and LABEL_VALUE.match(v)
        for k, v in value.items()
    )


def _canonical_base64(value: Any) -> bool:
    try:
        return (
            isinstance(value, str) and base64.b64encode(base64.b64decode(value)).decode() == value
        )
    except (binascii.Error, ValueError):
        return False


PROVIDER = "terraform-provider-google google/services/"
NOT_RESOURCE_LABELS = frozenset({gcp_types.NOTIFICATION_CHANNEL})
"""Types whose ``labels`` input is configuration (a channel's address), not resource
labels (those are its ``userLabels``)."""

RULES: tuple[CanonicalRule, ...] = (
    CanonicalRule(
        gcp_types.DASHBOARD,
        "json:dashboardJson.mosaicLayout.tiles[]",
        "a tile at position 0 carries no xPos/yPos (the API omits zero positions; the "
        "provider ignores only keys the API adds, not keys it drops)",
        lambda tile: (
            isinstance(tile, dict) and tile.get("xPos", 1) != 0 and tile.get("yPos", 1) != 0
        ),
        "terraform-provider-google #16173 (open); "
        + PROVIDER
        + "monitoring/resource_monitoring_dashboard.go removeComputedKeys",
        {"xPos": 0, "yPos": 4, "width": 9, "height": 4, "widget": {"title": "t"}},
    ),
    CanonicalRule(
        gcp_types.DASHBOARD,
        "json:dashboardJson.mosaicLayout.tiles[].widget",
        "no field holds its proto3 default (0, '', false, [], {}, *_UNSPECIFIED, "
        "ALIGN_NONE, REDUCE_NONE): the API's JSON leaves them out",
        _no_proto3_defaults,
        PROVIDER + "monitoring/resource_monitoring_dashboard.go; magic-modules #17392",
        {"title": "t", "xyChart": {"dataSets": [], "chartOptions": {"mode": "COLOR"}}},
    ),
    CanonicalRule(
        gcp_types.DASHBOARD,
        "json:dashboardJson.mosaicLayout.columns",
        "an integer 1..48",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 48,
        "Monitoring API v1 MosaicLayout.columns reference",
        0,
    ),
    CanonicalRule(
        gcp_types.ALERT_POLICY,
        "conditions[].conditionThreshold.duration",
        "whole seconds, a multiple of 60 ('300s')",
        lambda v: _is_seconds(v) and int(v[:-1]) % 60 == 0,
        PROVIDER + "monitoring/resource_monitoring_alert_policy.go; issue #16892",
        "5m",
    ),
    CanonicalRule(
        gcp_types.ALERT_POLICY,
        "conditions[].conditionThreshold.aggregations[].alignmentPeriod",
        "whole seconds ('60s')",
        _is_seconds,
        PROVIDER + "monitoring/resource_monitoring_alert_policy.go",
        "1m",
    ),
    CanonicalRule(
        gcp_types.ALERT_POLICY,
        "alertStrategy.autoClose",
        "whole seconds ('86400s')",
        _is_seconds,
        PROVIDER + "monitoring/resource_monitoring_alert_policy.go",
        "24h",
    ),
    CanonicalRule(
        gcp_types.ALERT_POLICY,
        "alertStrategy.notificationRateLimit.period",
        "whole seconds ('300s')",
        _is_seconds,
        PROVIDER + "monitoring/resource_monitoring_alert_policy.go",
        "5m",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_SUBSCRIPTION,
        "retryPolicy.minimumBackoff",
        "whole seconds, 0..600 ('10s')",
        _seconds_between(0, 600),
        PROVIDER + "pubsub/resource_pubsub_subscription.go (DurationDiffSuppress)",
        "10.5s",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_SUBSCRIPTION,
        "retryPolicy.maximumBackoff",
        "whole seconds, 0..600 ('600s')",
        _seconds_between(0, 600),
        PROVIDER + "pubsub/resource_pubsub_subscription.go (DurationDiffSuppress)",
        "10m",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_SUBSCRIPTION,
        "expirationPolicy.ttl",
        "'' (never expires) or whole seconds of at least one day",
        lambda v: v == "" or _seconds_between(86400, 10**9)(v),
        PROVIDER
        + "pubsub/resource_pubsub_subscription.go comparePubsubSubscriptionExpirationPolicy",
        "31d",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_SUBSCRIPTION,
        "messageRetentionDuration",
        "whole seconds, 600..2678400 (no diff suppression on this field)",
        _seconds_between(600, 2678400),
        PROVIDER + "pubsub/resource_pubsub_subscription.go",
        "7d",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_SUBSCRIPTION,
        "deadLetterPolicy.deadLetterTopic",
        "the full name projects/<project>/topics/<topic> (returned so, not suppressed)",
        lambda v: isinstance(v, str) and bool(re.match(r"^projects/[^/]+/topics/[^/]+$", v)),
        PROVIDER + "pubsub/resource_pubsub_subscription.go",
        "billing-on-bookings-dead-letter",
    ),
    CanonicalRule(
        gcp_types.PUBSUB_TOPIC,
        "messageRetentionDuration",
        "whole seconds",
        _is_seconds,
        PROVIDER + "pubsub/resource_pubsub_topic.go",
        "7d",
    ),
    CanonicalRule(
        gcp_types.CLOUD_FUNCTION,
        "serviceConfig.availableMemory",
        "an integer with a unit, M/G/Mi/Gi ('512Mi'), returned as written",
        lambda v: isinstance(v, str) and bool(re.match(r"^\d+(Mi|Gi|M|G)$", v)),
        PROVIDER + "cloudfunctions2/resource_cloudfunctions2_function.go",
        "0.5Gi",
    ),
    CanonicalRule(
        gcp_types.CLOUD_FUNCTION,
        "serviceConfig.timeoutSeconds",
        "an integer number of seconds",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        PROVIDER + "cloudfunctions2/resource_cloudfunctions2_function.go",
        "60",
    ),
    CanonicalRule(
        gcp_types.CLOUD_RUN_SERVICE,
        "template.timeout",
        "seconds with up to nine decimals and an 's' ('30s')",
        lambda v: isinstance(v, str) and bool(re.match(r"^[0-9]+(\.[0-9]{1,9})?s$", v)),
        PROVIDER + "cloudrunv2/resource_cloud_run_v2_service.go",
        "30",
    ),
    CanonicalRule(
        gcp_types.CLOUD_RUN_SERVICE,
        "template.containers[].resources.limits.memory",
        "an integer with Mi or Gi ('512Mi'), returned as written",
        lambda v: isinstance(v, str) and bool(re.match(r"^\d+(Mi|Gi)$", v)),
        PROVIDER + "cloudrunv2/resource_cloud_run_v2_service_utils.go",
        "512M",
    ),
    CanonicalRule(
        gcp_types.CLOUD_RUN_SERVICE,
        "template.containers[].resources.limits.cpu",
        "one of 1, 2, 4, 6, 8 (or millicpu below 1: '1000m' is not '1')",
        lambda v: v in {"1", "2", "4", "6", "8"} or bool(re.match(r"^[1-9]\d{0,2}m$", str(v))),
        PROVIDER + "cloudrunv2/resource_cloud_run_v2_service_utils.go",
        "1000m",
    ),
    CanonicalRule(
        gcp_types.SCHEDULER_JOB,
        "attemptDeadline",
        "whole seconds, 15..1800 for an HTTP target",
        _seconds_between(15, 1800),
        PROVIDER + "cloudscheduler/resource_cloud_scheduler_job.go",
        "5m",
    ),
    CanonicalRule(
        gcp_types.SCHEDULER_JOB,
        "retryConfig.minBackoffDuration",
        "whole seconds",
        _is_seconds,
        PROVIDER + "cloudscheduler/resource_cloud_scheduler_job.go",
        "1m",
    ),
    CanonicalRule(
        gcp_types.SCHEDULER_JOB,
        "httpTarget.headers",
        "no header the API sets itself (User-Agent, X-Google-*, Content-Length): it is "
        "stripped when read back",
        lambda v: (
            isinstance(v, dict)
            and not any(
                k.lower() in ("user-agent", "content-length") or k.lower().startswith("x-google-")
                for k in v
            )
        ),
        PROVIDER + "cloudscheduler/resource_cloud_scheduler_job.go",
        {"User-Agent": "switchboard"},
    ),
    CanonicalRule(
        gcp_types.SCHEDULER_JOB,
        "httpTarget.body",
        "standard padded base64 (bytes in proto3 JSON)",
        _canonical_base64,
        PROVIDER + "cloudscheduler/resource_cloud_scheduler_job.go; proto3 JSON mapping",
        "e30",
    ),
    CanonicalRule(
        gcp_types.SCHEDULER_JOB,
        "pubsubTarget.data",
        "standard padded base64 (bytes in proto3 JSON)",
        _canonical_base64,
        PROVIDER + "cloudscheduler/resource_cloud_scheduler_job.go; proto3 JSON mapping",
        "e30",
    ),
    CanonicalRule(
        gcp_types.FIRESTORE_BACKUP_SCHEDULE,
        "retention",
        "whole seconds, at most 14 weeks (8467200s)",
        _seconds_between(1, 8467200),
        PROVIDER + "firestore/resource_firestore_backup_schedule.go",
        "7d",
    ),
    CanonicalRule(
        gcp_types.FIRESTORE_INDEX,
        "fields[].fieldPath",
        "never __name__ (the API appends it; the provider suppresses only its own copy)",
        lambda v: v != "__name__",
        PROVIDER + "firestore/resource_firestore_index.go firestoreIFieldsDiffSuppress",
        "__name__",
    ),
    CanonicalRule(
        gcp_types.STORAGE_BUCKET,
        "retentionPolicy.retentionPeriod",
        "whole seconds as a decimal string, no unit",
        lambda v: isinstance(v, int | str) and bool(re.match(r"^\d+$", str(v))),
        PROVIDER + "storage/resource_storage_bucket.go flattenBucketRetentionPolicy",
        "30d",
    ),
    CanonicalRule(
        gcp_types.ARTIFACT_REPOSITORY,
        "cleanupPolicies[].condition.olderThan",
        "whole seconds",
        _is_seconds,
        PROVIDER + "artifactregistry/resource_artifact_registry_repository.go",
        "30d",
    ),
    CanonicalRule(
        "*",
        "labels",
        "lower-case keys and values of at most 63 characters, no goog-* key (Google adds "
        "those; they show only in effectiveLabels)",
        _labels_ok,
        "pulumi-gcp labels handling (effectiveLabels); GCP labels requirements",
        {"Team": "Ops"},
    ),
)


def values_at(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every value ``path`` reaches in ``value``."""
    if path.startswith("json:"):
        field, _, rest = path[len("json:") :].partition(".")
        raw = value.get(field) if isinstance(value, dict) else None
        if not isinstance(raw, str) or raw in (UNKNOWN, SECRET):
            return
        try:
            parsed = json.loads(raw)
        except ValueError:
            yield field, raw
            return
        for where, found in values_at(parsed, rest) if rest else [("", parsed)]:
            yield f"{field}:{where}", found
        return
    parts = path.split(".") if path else []

    def walk(current: Any, index: int, where: str) -> Iterator[tuple[str, Any]]:
        if index == len(parts):
            yield where, current
            return
        part = parts[index]
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        if key == "*":
            items = current.items() if isinstance(current, dict) else []
            for name, item in items:
                yield from walk(item, index + 1, f"{where}.{name}".lstrip("."))
            return
        if not isinstance(current, dict) or key not in current:
            return
        child, here = current[key], f"{where}.{key}".lstrip(".")
        if many:
            for i, item in enumerate(child if isinstance(child, list) else []):
                yield from walk(item, index + 1, f"{here}[{i}]")
        else:
            yield from walk(child, index + 1, here)

    yield from walk(value, 0, "")


def fields_in_canonical_form(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """Every field a rule covers is written as the API returns it."""
    for node in render.nodes.values():
        if not node.custom:
            continue
        for rule in RULES:
            if rule.type != node.type and (rule.type != "*" or node.type in NOT_RESOURCE_LABELS):
                continue
            for where, value in values_at(node.inputs, rule.path):
                if value in (UNKNOWN, SECRET) or rule.ok(value):
                    continue
                yield Finding(
                    RULE,
                    node.id,
                    f"{where} = {json.dumps(value)[:120]}: the API returns it as {rule.form}, "
                    "so every later `pulumi up` shows an update",
                    f"write it in that form ({rule.source})",
                )
