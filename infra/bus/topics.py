"""The event bus: one Pub/Sub topic per topic declared in functions/catalogue.yaml."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.catalogue import TopicSpec


@dataclass(frozen=True)
class EventBusArgs:
    project: str
    topics: Mapping[str, TopicSpec]
    message_retention: str
    """How long each topic keeps messages (so a new or reset subscription can seek back)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class EventBus(pulumi.ComponentResource):
    topics: dict[str, gcp.pubsub.Topic]

    def __init__(
        self, name: str, args: EventBusArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bus:EventBus", name, None, opts)
        self.topics = {}
        for topic_name in sorted(args.topics):
            self.topics[topic_name] = gcp.pubsub.Topic(
                topic_name,
                project=args.project,
                name=topic_name,
                message_retention_duration=args.message_retention,
                labels=dict(args.labels),
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=True, depends_on=list(args.depends_on)
                ),
            )
        self.register_outputs({"topics": {n: t.id for n, t in self.topics.items()}})
