"""One agent's consumption of one topic: a filtered push subscription, its dead-letter
topic, the dead-letter topic's pull subscription, and the grants the plan makes on them
(the Pub/Sub service agent's, which make dead-lettering work, and the agent's own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.agent.grants import GrantTarget, declare_grants
from infra.agent.plan import Grant, Member
from infra.catalogue import Consumer

DEAD_LETTER_RETENTION = "604800s"
"""Dead letters are kept 7 days (Pub/Sub's maximum for unacked messages)."""


@dataclass(frozen=True)
class PushTarget:
    """Where and as whom Pub/Sub pushes. The endpoint and the invoker's grants exist only
    once the agent's workload does, which itself waits for the agent's grant on the
    dead-letter topic: the agent passes them as outputs it resolves then
    (:class:`DeferredPushTarget`)."""

    endpoint: pulumi.Input[str]
    invoker_email: pulumi.Input[str]
    depends_on: pulumi.Input[Sequence[pulumi.Resource]] = ()
    """The invoker's grants (run.invoker, token creation) and their propagation: the
    first push needs them."""


class DeferredPushTarget:
    """A :class:`PushTarget` given now, whose endpoint and grants are resolved later
    (:meth:`resolve`, once the workload exists). A context manager: the program waits for
    every output to resolve, so leaving the block on an error fails the target's outputs
    (the error surfaces instead of a hang), and leaving it without resolving is an error.
    """

    def __init__(self, invoker_email: pulumi.Input[str]) -> None:
        endpoint, self._resolve_endpoint = pulumi.deferred_output()
        ready, self._resolve_ready = pulumi.deferred_output()
        self.target = PushTarget(endpoint, invoker_email, ready)
        self._resolved = False

    def resolve(self, endpoint: pulumi.Output[str], depends_on: Sequence[pulumi.Resource]) -> None:
        self._resolved = True
        self._resolve_endpoint(endpoint)
        self._resolve_ready(pulumi.Output.from_input(list(depends_on)))

    def __enter__(self) -> DeferredPushTarget:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: object
    ) -> None:
        if self._resolved:
            return
        reason = error or RuntimeError("the push target was never resolved")

        def fail(_: object) -> Any:
            raise reason  # the program's own error, not a second one in its place

        failed = pulumi.Output.from_input(None).apply(fail)
        self._resolve_endpoint(failed)
        self._resolve_ready(failed)
        self._resolved = True
        if error is None:
            raise reason


@dataclass(frozen=True)
class PushSubscriptionArgs:
    project: str
    consumer: Consumer
    topic_id: pulumi.Input[str]
    grants: Sequence[Grant]
    """The agent's plan's grants (``AgentPlan.grants``): this component declares those on
    its dead-letter topic and its subscription."""
    members: Mapping[Member, pulumi.Input[str]]
    """Each member's IAM identity (``serviceAccount:...``)."""
    target: PushTarget
    labels: dict[str, str]


class PushSubscription(pulumi.ComponentResource):
    """Complete at construction: the dead-letter topic, its pull subscription and the
    grants on it (the agent's runtime identity publishes its own permanent failures there,
    so the agent's first revision waits for that grant), then the push subscription, which
    waits for the service agent's grant on the dead-letter topic and for the
    :class:`PushTarget`'s grants.

    The subscription's filter is immutable in GCP: changing it replaces the subscription
    (declared with ``replace_on_changes`` so reviews see it), and because the name is
    fixed the old one is deleted first, dropping its backlog. See docs/runbooks."""

    subscription: gcp.pubsub.Subscription
    dead_letter_topic: gcp.pubsub.Topic
    dead_letter_subscription: gcp.pubsub.Subscription
    dead_letter_grants: dict[Grant, pulumi.CustomResource]
    """The plan's grants on the dead-letter topic, each as its IAM member."""
    subscription_grants: dict[Grant, pulumi.CustomResource]
    """The plan's grants on the push subscription, each as its IAM member."""

    def __init__(
        self, name: str, args: PushSubscriptionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:agent:PushSubscription", name, None, opts)
        consumer = args.consumer
        spec = consumer.spec

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
        self.dead_letter_grants = declare_grants(
            args.grants,
            [
                GrantTarget(
                    "topic",
                    consumer.dead_letter_topic_id,
                    self.dead_letter_topic.name,
                    project=args.project,
                )
            ],
            args.members,
            parent=self,
        )
        # Pub/Sub forwards a dead letter with the service agent's grant: the subscription
        # waits for it, as for the push target's grants.
        forwarding = self.dead_letter_grants_to("pubsub-service-agent")
        target = args.target
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
                depends_on=pulumi.Output.from_input(target.depends_on).apply(
                    lambda ready: [*forwarding, *ready]
                ),
            ),
        )
        self.subscription_grants = declare_grants(
            args.grants,
            [
                GrantTarget(
                    "subscription",
                    consumer.subscription_id,
                    self.subscription.name,
                    project=args.project,
                )
            ],
            args.members,
            parent=self,
        )
        self.register_outputs(
            {
                "subscription": self.subscription.name,
                "dead_letter_topic": self.dead_letter_topic.name,
                "dead_letter_subscription": self.dead_letter_subscription.name,
            }
        )

    @property
    def grants(self) -> dict[Grant, pulumi.CustomResource]:
        """Every grant of the plan this component declared."""
        return {**self.dead_letter_grants, **self.subscription_grants}

    def dead_letter_grants_to(self, member: Member) -> list[pulumi.CustomResource]:
        """The IAM members on the dead-letter topic for ``member``, in the plan's order."""
        return [g for grant, g in self.dead_letter_grants.items() if grant.member == member]
