"""What the cost model reads from an offline render (``rendered/<stack>.json``).

A 2nd-gen function without ``availableCpu`` gets the CPU its memory implies (Cloud Run
functions memory/CPU table, https://cloud.google.com/functions/docs/configuring/memory).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from library import gcp_types
from tools.cost.errors import CostInputError

# memory MiB -> default vCPU of a 2nd-gen function (the table cited above)
FUNCTION_DEFAULT_CPU = ((128, 0.083), (256, 0.167), (512, 0.333), (1024, 0.583), (2048, 1.0))
MAX_RESOURCES = 10_000


@dataclass(frozen=True)
class Workload:
    agent: str
    platform: str  # "function" | "run"
    memory_gib: float
    vcpu: float
    min_instances: int
    concurrency: int
    secrets: int
    vpc_egress: bool


@dataclass(frozen=True)
class Job:
    name: str
    schedule: str
    timezone: str
    pubsub: bool


@dataclass(frozen=True)
class Bucket:
    role: str
    location: str
    age_days: int | None


@dataclass
class RenderFacts:
    stack: str
    custom_types: dict[str, int] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    pitr: bool = False
    backup_retention_days: list[float] = field(default_factory=list)
    backup_every_days: list[float] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    log_retention_days: int = 30
    nat: bool = False
    nat_addresses: int = 0
    repositories: int = 0
    builds: int = 0
    subscriptions: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Agent subscription id -> (deployed filter, max delivery attempts), as rendered."""


def memory_gib(text: str) -> float:
    match = re.fullmatch(r"([0-9]+)(Mi|Gi|M|G)", text or "")
    if match is None:
        raise CostInputError(f"render: memory {text!r} is not like 256Mi or 1Gi")
    amount = int(match.group(1))
    return amount / 1024 if match.group(2) in ("Mi", "M") else float(amount)


def default_function_cpu(memory: float) -> float:
    mib = memory * 1024
    for limit, cpu in FUNCTION_DEFAULT_CPU:
        if mib <= limit:
            return cpu
    return 2.0


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)s", text or "")
    if match is None:
        raise CostInputError(f"render: duration {text!r} is not like 604800s")
    return float(match.group(1))


def _function(inputs: Mapping[str, Any]) -> Workload:
    config = inputs.get("serviceConfig") or {}
    memory = memory_gib(config.get("availableMemory", "256Mi"))
    cpu = config.get("availableCpu")
    return Workload(
        agent=inputs.get("name", "?"),
        platform="function",
        memory_gib=memory,
        vcpu=float(cpu) if cpu else default_function_cpu(memory),
        min_instances=int(config.get("minInstanceCount") or 0),
        concurrency=int(config.get("maxInstanceRequestConcurrency") or 1),
        secrets=len(config.get("secretEnvironmentVariables") or []),
        vpc_egress=bool(config.get("directVpcEgress") or config.get("vpcConnector")),
    )


def _service(inputs: Mapping[str, Any]) -> Workload:
    template = inputs.get("template") or {}
    container = (template.get("containers") or [{}])[0]
    limits = (container.get("resources") or {}).get("limits") or {}
    envs = container.get("envs") or []
    return Workload(
        agent=inputs.get("name", "?"),
        platform="run",
        memory_gib=memory_gib(limits.get("memory", "512Mi")),
        vcpu=float(limits.get("cpu", "1")),
        min_instances=int((template.get("scaling") or {}).get("minInstanceCount") or 0),
        concurrency=int(template.get("maxInstanceRequestConcurrency") or 80),
        secrets=sum(1 for env in envs if "valueSource" in env),
        vpc_egress=bool(template.get("vpcAccess")),
    )


def read_render(render: Mapping[str, Any]) -> RenderFacts:  # noqa: PLR0912
    resources = render.get("resources")
    if not isinstance(resources, list) or len(resources) > MAX_RESOURCES:
        raise CostInputError("render: 'resources' is not a list (of at most 10,000)")
    facts = RenderFacts(stack=str(render.get("stack", "?")))
    for resource in resources:
        if not resource.get("custom"):
            continue
        rtype, inputs = resource["type"], resource.get("inputs") or {}
        facts.custom_types[rtype] = facts.custom_types.get(rtype, 0) + 1
        if rtype == gcp_types.CLOUD_FUNCTION:
            workload = _function(inputs)
            facts.workloads[workload.agent] = workload
        elif rtype == gcp_types.CLOUD_RUN_SERVICE:
            workload = _service(inputs)
            facts.workloads[workload.agent] = workload
        elif rtype == gcp_types.SCHEDULER_JOB:
            facts.jobs.append(
                Job(
                    name=inputs.get("name", resource["name"]),
                    schedule=inputs.get("schedule", ""),
                    timezone=inputs.get("timeZone", "Etc/UTC"),
                    pubsub="pubsubTarget" in inputs,
                )
            )
        elif rtype == gcp_types.FIRESTORE_DATABASE:
            facts.pitr = inputs.get("pointInTimeRecoveryEnablement", "").endswith("_ENABLED")
        elif rtype == gcp_types.FIRESTORE_BACKUP_SCHEDULE:
            facts.backup_retention_days.append(_seconds(inputs.get("retention")) / 86400)
            facts.backup_every_days.append(7.0 if "weeklyRecurrence" in inputs else 1.0)
        elif rtype == gcp_types.STORAGE_BUCKET:
            ages = [
                rule["condition"]["age"]
                for rule in inputs.get("lifecycleRules") or []
                if "age" in (rule.get("condition") or {})
            ]
            role = (inputs.get("labels") or {}).get("role", resource["name"])
            facts.buckets[role] = Bucket(
                role=role, location=inputs.get("location", ""), age_days=min(ages, default=None)
            )
        elif rtype == gcp_types.LOG_BUCKET_CONFIG:
            facts.log_retention_days = int(inputs.get("retentionDays") or 30)
        elif rtype == gcp_types.PUBSUB_SUBSCRIPTION and "deadLetterPolicy" in inputs:
            attempts = int(inputs["deadLetterPolicy"].get("maxDeliveryAttempts") or 5)
            facts.subscriptions[inputs.get("name", resource["name"])] = (
                str(inputs.get("filter") or ""),
                attempts,
            )
        elif rtype == gcp_types.COMPUTE_ROUTER_NAT:
            facts.nat = True
        elif rtype == gcp_types.COMPUTE_ADDRESS:
            facts.nat_addresses += 1
        elif rtype == gcp_types.ARTIFACT_REPOSITORY:
            facts.repositories += 1
        elif rtype == "pulumi-python:dynamic:Resource" and "image_name" in inputs:
            facts.builds += 1
    return facts
