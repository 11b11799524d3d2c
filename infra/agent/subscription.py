"""One agent's consumption of one topic: a filtered push subscription, its dead-letter
topic, the dead-letter topic's pull subscription, and the Pub/Sub service agent's grants
that make dead-lettering work."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.agent.plan import ROLE_PUBLISHER, ROLE_SUBSCRIBER
from infra.catalogue import Consumer

DEAD_LETTER_RETENTION = "604800s"
"""Dead letters are kept 7 days (Pub/Sub's maximum for unacked messages)."""


@dataclass(frozen=True)
class PushSubscriptionArgs:
    project: str
    consumer: Consumer
    topic_id: pulumi.Input[str]
    pubsub_service_agent: pulumi.Input[str]
    agent_member: pulumi.Input[str]
    labels: dict[str, str]


@dataclass(frozen=True)
class PushTarget:
    """Where and as whom Pub/Sub pushes: known only once the agent's workload exists."""

    endpoint: pulumi.Input[str]
    invoker_email: pulumi.Input[str]
    depends_on: tuple[pulumi.Resource, ...] = ()
    """The invoker's grants (run.invoker, token creation): the first push needs them."""


class PushSubscription(pulumi.ComponentResource):
    """Declared in two steps, so the agent's workload can wait for what it uses:

    1. the constructor declares the dead-letter topic, its pull subscription and the
       grants on it (the agent's runtime identity publishes its own permanent failures
       there, so its first revision waits for that grant);
    2. :meth:`attach` declares the push subscription once the workload's URL and the
       invoker's grants exist.

    The subscription's filter is immutable in GCP: changing it replaces the subscription
    (declared with ``replace_on_changes`` so reviews see it), and because the name is
    fixed the old one is deleted first, dropping its backlog. See docs/runbooks."""

    subscription: gcp.pubsub.Subscription
    dead_letter_topic: gcp.pubsub.Topic
    dead_letter_subscription: gcp.pubsub.Subscription

    def __init__(
        self, name: str, args: PushSubscriptionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:agent:PushSubscription", name, None, opts)
        consumer = args.consumer
        child = pulumi.ResourceOptions(parent=self)

        self.dead_letter_topic = gcp.pubsub.Topic(
            consumer.dead_letter_topic_id,
            project=args.project,
            name=consumer.dead_letter_topic_id,
            labels={**args.labels, "role": "dead-letter"},
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        # Every dead-letter topic has a subscription: messages published to a topic with
        # none are lost. Pull, never expiring, keeping messages as long as Pub/Sub allows.
        self.dead_letter_subscription = gcp.pubsub.Subscription(
            f"{consumer.dead_letter_subscription_id}-sub",
            project=args.project,
            name=consumer.dead_letter_subscription_id,
            topic=self.dead_letter_topic.id,
            ack_deadline_seconds=60,
            message_retention_duration=DEAD_LETTER_RETENTION,
            expiration_policy={"ttl": ""},
            labels={**args.labels, "role": "dead-letter"},
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.pubsub_publisher = gcp.pubsub.TopicIAMMember(
            f"{consumer.dead_letter_topic_id}-pubsub-publisher",
            project=args.project,
            topic=self.dead_letter_topic.name,
            role=ROLE_PUBLISHER,
            member=args.pubsub_service_agent,
            opts=child,
        )
        """The Pub/Sub service agent's grant to forward dead letters to the topic."""
        self.agent_publisher = gcp.pubsub.TopicIAMMember(
            f"{consumer.dead_letter_topic_id}-agent-publisher",
            project=args.project,
            topic=self.dead_letter_topic.name,
            role=ROLE_PUBLISHER,
            member=args.agent_member,
            opts=child,
        )
        self._args = args

    def attach(self, target: PushTarget) -> gcp.pubsub.Subscription:
        """Declare the push subscription itself (once), then finish the component."""
        args, consumer = self._args, self._args.consumer
        spec = consumer.spec
        child = pulumi.ResourceOptions(parent=self)
        self.subscription = gcp.pubsub.Subscription(
            consumer.subscription_id,
            project=args.project,
            name=consumer.subscription_id,
            topic=args.topic_id,
            filter=consumer.effective_filter,
            ack_deadline_seconds=spec.ack_deadline_seconds,
            retry_policy={
                "minimum_backoff": f"{spec.retry.minimum_backoff_seconds}s",
                "maximum_backoff": f"{spec.retry.maximum_backoff_seconds}s",
            },
            dead_letter_policy={
                "dead_letter_topic": self.dead_letter_topic.id,
                "max_delivery_attempts": spec.max_delivery_attempts,
            },
            expiration_policy={"ttl": ""},
            push_config={
                "push_endpoint": target.endpoint,
                "oidc_token": {
                    "service_account_email": target.invoker_email,
                    "audience": target.endpoint,
                },
            },
            labels=args.labels,
            opts=pulumi.ResourceOptions(
                parent=self,
                delete_before_replace=True,
                replace_on_changes=["filter"],
                depends_on=[self.pubsub_publisher, *target.depends_on],
            ),
        )
        gcp.pubsub.SubscriptionIAMMember(
            f"{consumer.subscription_id}-pubsub-subscriber",
            project=args.project,
            subscription=self.subscription.name,
            role=ROLE_SUBSCRIBER,
            member=args.pubsub_service_agent,
            opts=child,
        )
        self.register_outputs(
            {
                "subscription": self.subscription.name,
                "dead_letter_topic": self.dead_letter_topic.name,
                "dead_letter_subscription": self.dead_letter_subscription.name,
            }
        )
        return self.subscription
