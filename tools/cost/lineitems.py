"""Line items: each quantity the stack uses in a month, with its unit price.

Pure: the catalogue, the render's facts, the traffic profile, the calibration and the price
table in; line items out. Quantities and rules (docs/cost.md says why):

- Requests: one per push attempt (and per origin event at the gateway). Compute per request
  is the calibrated handler time with its CPU part stretched to the deployed CPU
  (``cpu_ms * max(1, 1/vCPU)``: the local agent had up to a whole core), rounded up to
  100 ms (Cloud Run's billing granularity), times the deployed vCPU and GiB. Minimum
  instances are billed idle for the whole month.
- Pub/Sub: every publish and every push is at least 1000 bytes; a message a filter keeps
  out of a subscription is still billed as delivery throughput (at its own size).
- Firestore operations per push attempt, from the calibration; stored data grows with the
  documents kept in collections without a TTL; PITR, backups and exports follow it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.catalogue.catalogue import Catalogue
from tools.cost.calibration import Behaviour, Calibration
from tools.cost.prices import PriceTable
from tools.cost.propagation import GATEWAY_SOURCE, Propagation, propagate
from tools.cost.render_facts import RenderFacts, Workload
from tools.cost.schedules import DAYS_PER_MONTH, SECONDS_PER_MONTH, fires_per_month
from tools.cost.traffic import TrafficProfile

PUBSUB_MIN_REQUEST_BYTES = 1000  # https://cloud.google.com/pubsub/pricing
BILLING_GRANULARITY_S = 0.1  # https://cloud.google.com/run/pricing (rounded up to 100 ms)
LOCAL_VCPU = 1.0
TIB = 2**40
GIB = 2**30
HOURS_PER_MONTH = SECONDS_PER_MONTH / 3600
PITR_WINDOW_DAYS = 7  # Firestore PITR keeps 7 days of versions
FREE_LOG_RETENTION_DAYS = 30
SHARED = "(shared)"


@dataclass(frozen=True)
class LineItem:
    service: str
    item: str
    agent: str
    unit_key: str
    quantity: float
    unit_price: float
    grows: bool = False
    """True when the quantity grows with the data kept (storage, PITR, backups, exports)."""

    @property
    def list_cost(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Scenario:
    """What is estimated: a month (1 = the first) and whether it is the naive fleet."""

    month: int = 1
    naive: bool = False


FIRST_MONTH = Scenario()


def billed_seconds(duration_ms: float, vcpu: float, cpu_ms: float = 0.0) -> float:
    """Seconds billed for one request: the waiting part of the measured time as it was,
    the CPU part stretched on a fraction of a vCPU (the local process had up to a whole
    core), rounded up to 100 ms."""
    cpu = min(cpu_ms, duration_ms)
    scaled = ((duration_ms - cpu) + cpu * max(1.0, LOCAL_VCPU / vcpu)) / 1000
    steps = math.ceil(round(scaled / BILLING_GRANULARITY_S, 9))
    return max(1, steps) * BILLING_GRANULARITY_S


def _service_name(workload: Workload) -> str:
    return "Cloud Run functions" if workload.platform == "function" else "Cloud Run"


class _Builder:
    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self.items: list[LineItem] = []

    def add(  # noqa: PLR0917
        self, service: str, item: str, agent: str, key: str, qty: float, grows: bool = False
    ) -> None:
        if qty <= 0:
            return
        self.items.append(
            LineItem(service, item, agent, key, qty, self.prices.unit(key).price, grows)
        )


def _compute(
    b: _Builder, w: Workload, requests: float, calls: list[tuple[float, Behaviour]]
) -> None:
    service = _service_name(w)
    vcpu_s = gib_s = 0.0
    for count, behaviour in calls:
        seconds = billed_seconds(behaviour.duration_ms, w.vcpu, behaviour.cpu_ms)
        vcpu_s += count * seconds * w.vcpu
        gib_s += count * seconds * w.memory_gib
    b.add(service, "requests", w.agent, "run.request", requests)
    b.add(service, f"vCPU-seconds ({w.vcpu:g} vCPU)", w.agent, "run.vcpu_second", vcpu_s)
    b.add(service, f"GiB-seconds ({w.memory_gib:g} GiB)", w.agent, "run.gib_second", gib_s)


def _idle(b: _Builder, w: Workload, min_instances: int) -> None:
    service, seconds = _service_name(w), min_instances * SECONDS_PER_MONTH
    label = f"{min_instances} min instance(s) idle"
    b.add(service, f"{label}, vCPU", w.agent, "run.idle_vcpu_second", seconds * w.vcpu)
    b.add(service, f"{label}, GiB", w.agent, "run.idle_gib_second", seconds * w.memory_gib)


def _per_delivery(b: _Builder, agent: str, count: float, behaviour: Behaviour) -> None:
    b.add("Firestore", "document reads", agent, "firestore.read", count * behaviour.firestore_reads)
    b.add(
        "Firestore", "document writes", agent, "firestore.write", count * behaviour.firestore_writes
    )
    b.add(
        "Firestore",
        "document deletes",
        agent,
        "firestore.delete",
        count * behaviour.firestore_deletes,
    )
    b.add(
        "Cloud Logging", "ingestion", agent, "logging.ingestion", count * behaviour.log_bytes / GIB
    )


def _growth_months(scenario: Scenario, growth: float) -> float:
    """Months of traffic kept by the middle of ``scenario.month`` (growth compounded)."""
    factor, kept = 1.0, 0.0
    for _ in range(scenario.month - 1):
        kept += factor
        factor *= 1 + growth
    return kept + factor / 2


def build_line_items(  # noqa: PLR0912, PLR0915, PLR0917
    catalogue: Catalogue,
    facts: RenderFacts,
    traffic: TrafficProfile,
    calibration: Calibration,
    prices: PriceTable,
    scenario: Scenario = FIRST_MONTH,
) -> tuple[list[LineItem], Propagation]:
    month_factor = (1 + traffic.growth_per_month) ** (scenario.month - 1)
    flow = propagate(
        catalogue,
        traffic.scaled(month_factor),
        calibration,
        filters=not scenario.naive,
        deployed=facts.subscriptions,
    )
    b = _Builder(prices)
    msg = traffic.message_bytes
    billed_msg = max(PUBSUB_MIN_REQUEST_BYTES, msg)
    kept_docs_per_month = 0.0
    # the agents: compute, Firestore operations, logs, secrets
    for name, agent in catalogue.agents.items():
        workload = facts.workloads.get(name)
        if workload is None:
            continue
        calls: list[tuple[float, Behaviour]] = []
        requests = 0.0
        if name == GATEWAY_SOURCE:
            for stream, rate in flow.published.items():
                if stream.source == GATEWAY_SOURCE:
                    calls.append((rate, calibration.behaviour(name, stream.event_type)))
                    requests += rate
        for sub in flow.subscriptions:
            if sub.agent != name:
                continue
            for event_type, attempts in sub.attempts_by_type.items():
                calls.append((attempts, calibration.behaviour(name, event_type)))
                requests += attempts
            if sub.ignored_attempts:
                calls.append((sub.ignored_attempts, Behaviour()))
                requests += sub.ignored_attempts
        for count, behaviour in calls:
            _per_delivery(b, name, count, behaviour)
            kept_docs_per_month += count * behaviour.documents_kept / month_factor
        _compute(b, workload, requests, calls)
        min_instances = max(1, workload.min_instances) if scenario.naive else workload.min_instances
        _idle(b, workload, min_instances)
        starts = traffic.cold_starts_per_day * DAYS_PER_MONTH + min_instances
        b.add(
            "Secret Manager",
            "access operations",
            name,
            "secretmanager.access",
            starts * workload.secrets,
        )
        if agent.schedule is not None:
            b.add("Cloud Scheduler", "tick job", name, "scheduler.job", 1)
    # Pub/Sub: publishes by their publisher, pushes and filtered-out messages by subscriber
    for source, rate in flow.publishes_by_source.items():
        who = source if source in catalogue.agents else SHARED
        b.add("Pub/Sub", f"publish ({source})", who, "pubsub.throughput", rate * billed_msg / TIB)
    for sub in flow.subscriptions:
        pushes = sub.attempts + sub.ignored_attempts
        b.add(
            "Pub/Sub",
            f"push {sub.topic}",
            sub.agent,
            "pubsub.throughput",
            pushes * billed_msg / TIB,
        )
        b.add(
            "Pub/Sub",
            f"filtered out of {sub.topic}",
            sub.agent,
            "pubsub.throughput",
            sub.filtered_out * msg / TIB,
        )
        b.add(
            "Pub/Sub",
            f"dead-lettered from {sub.topic}",
            sub.agent,
            "pubsub.throughput",
            sub.dead_lettered * billed_msg / TIB,
        )
    # Firestore data kept, PITR, backups, exports (they grow month by month)
    doc_bytes = traffic.firestore.document_bytes
    kept_docs = kept_docs_per_month * _growth_months(scenario, traffic.growth_per_month)
    stored_gib = traffic.firestore.initial_gib + kept_docs * doc_bytes / GIB
    stored_docs = traffic.firestore.initial_gib * GIB / doc_bytes + kept_docs
    b.add("Firestore", "stored data", SHARED, "firestore.storage", stored_gib, grows=True)
    if facts.pitr:
        week_of_writes = kept_docs_per_month * month_factor * PITR_WINDOW_DAYS / DAYS_PER_MONTH
        pitr = stored_gib + week_of_writes * doc_bytes / GIB
        b.add("Firestore", "PITR data (7 days)", SHARED, "firestore.pitr_storage", pitr, True)
    for retention, every in zip(facts.backup_retention_days, facts.backup_every_days, strict=True):
        kept = min(retention, scenario.month * DAYS_PER_MONTH) / every
        label = f"backups every {every:g} d kept {retention:g} d"
        b.add("Firestore", label, SHARED, "firestore.backup_storage", kept * stored_gib, True)
    exports = facts.buckets.get("firestore-exports")
    for job in facts.jobs:
        b.add("Cloud Scheduler", f"job {job.name}", SHARED, "scheduler.job", 1)
        if job.name == "firestore-export" and exports is not None:
            per_month = fires_per_month(job.schedule)
            b.add(
                "Firestore",
                "export reads (every document)",
                SHARED,
                "firestore.read",
                per_month * stored_docs,
                grows=True,
            )
            age = exports.age_days or 3650
            kept = per_month * min(age, scenario.month * DAYS_PER_MONTH) / DAYS_PER_MONTH
            key = "storage.standard_eu" if exports.location == "EU" else "storage.standard_regional"
            b.add("Cloud Storage", "Firestore exports", SHARED, key, kept * stored_gib, grows=True)
    # tick jobs are counted per agent above; the render's jobs include them: drop duplicates
    tick_jobs = {f"{a.name}-tick" for a in catalogue.scheduled_agents()}
    b.items = [i for i in b.items if i.item.removeprefix("job ") not in tick_jobs]
    # logging retention beyond the free 30 days
    ingested = sum(i.quantity for i in b.items if i.unit_key == "logging.ingestion")
    extra_days = max(0.0, min(facts.log_retention_days, scenario.month * DAYS_PER_MONTH) - 30)
    b.add(
        "Cloud Logging",
        f"retention {facts.log_retention_days} d",
        SHARED,
        "logging.retention",
        ingested * extra_days / DAYS_PER_MONTH,
        grows=True,
    )
    # secrets, images, builds, NAT
    b.add(
        "Secret Manager", "active versions", SHARED, "secretmanager.version", len(catalogue.secrets)
    )
    build = traffic.build
    images = len(facts.workloads) * build.images_kept_per_agent * build.image_gib_per_agent
    if facts.repositories:
        b.add("Artifact Registry", "agent images", SHARED, "artifactregistry.storage", images)
    b.add(
        "Cloud Build",
        "build minutes",
        SHARED,
        "cloudbuild.minute",
        build.deploys_per_month * build.minutes_per_build,
    )
    if facts.nat:
        assigned = sum(max(1, w.min_instances) for w in facts.workloads.values() if w.vpc_egress)
        hours = min(assigned, 32) * HOURS_PER_MONTH
        b.add("Cloud NAT", "gateway instance-hours", SHARED, "nat.gateway_hour", hours)
        b.add("Cloud NAT", "data processed", SHARED, "nat.data", traffic.nat_egress_gib_per_month)
        b.add(
            "Cloud NAT",
            "static address",
            SHARED,
            "nat.ip_hour",
            facts.nat_addresses * HOURS_PER_MONTH,
        )
    return b.items, flow
