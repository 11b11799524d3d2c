"""Cloud Scheduler jobs that publish a tick for each scheduled agent."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
from switchboard_contract import attributes

from infra.catalogue import ScheduleSpec, naming


@dataclass(frozen=True)
class TickArgs:
    project: str
    region: str
    agent: str
    schedule: ScheduleSpec
    topic_id: pulumi.Input[str]


class Tick(pulumi.ComponentResource):
    """One job: ``schedule.cron`` in ``schedule.timezone``, publishing ``type=tick,
    target=<agent>`` to the schedule's topic. Ticks carry no ``event_id`` attribute (Cloud
    Scheduler cannot mint one per run); the runtime uses the Pub/Sub message id."""

    job: gcp.cloudscheduler.Job

    def __init__(
        self, name: str, args: TickArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:scheduler:Tick", name, None, opts)
        payload = json.dumps({"target": args.agent}, sort_keys=True).encode()
        self.job = gcp.cloudscheduler.Job(
            f"{args.agent}-tick",
            project=args.project,
            region=args.region,
            name=naming.scheduler_job_id(args.agent),
            description=f"Ticks for the {args.agent} agent",
            schedule=args.schedule.cron,
            time_zone=args.schedule.timezone,
            pubsub_target={
                "topic_name": args.topic_id,
                "data": base64.b64encode(payload).decode(),
                "attributes": {
                    attributes.TYPE: attributes.TICK_TYPE,
                    attributes.TARGET: args.agent,
                    attributes.SOURCE: attributes.TICK_SOURCE,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.register_outputs({"job": self.job.name})
