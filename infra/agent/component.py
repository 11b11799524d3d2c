"""One agent, end to end: identities, packaged code, compute, IAM, and its subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from infra.agent.plan import (
    ROLE_DATASTORE_USER,
    ROLE_PUBLISHER,
    ROLE_RUN_INVOKER,
    ROLE_SECRET_ACCESSOR,
    ROLE_TOKEN_CREATOR,
    AgentPlan,
)
from infra.agent.subscription import PushSubscription, PushSubscriptionArgs, PushTarget
from infra.agent.workload import BASE_IMAGES, WorkloadInputs, declare_workload
from infra.artifacts.sources import REPOSITORY_ID
from infra.build import AgentImage, AgentImageArgs
from infra.iam import GrantPropagation, GrantPropagationArgs
from infra.network.egress import VpcEgress
from infra.packaging.archive import archive_kind, build_archive
from infra.secrets.store import SecretRef


@dataclass(frozen=True)
class AgentArgs:
    project: str
    region: str
    plan: AgentPlan
    functions_root: Path
    build_dir: Path
    source_bucket: gcp.storage.Bucket
    builder_name: pulumi.Input[str]
    repository_id: pulumi.Input[str]
    topics: Mapping[str, gcp.pubsub.Topic]
    secrets: Mapping[str, SecretRef]
    pubsub_service_agent: pulumi.Input[str]
    builder_grants: Sequence[pulumi.Resource] = ()
    """The build identity's grants (``AgentSources.builder_grants``): a build (the
    function's own, or a Run agent's image) must not start before they exist."""
    labels: Mapping[str, str] = field(default_factory=dict)
    deletion_protection: bool = False
    depends_on: Sequence[pulumi.Resource] = ()
    egress: VpcEgress | None = None
    """Opt-in VPC egress (``switchboard:network.egressViaVpc``)."""


class Agent(pulumi.ComponentResource):
    """An agent as the catalogue declares it.

    - its own runtime service account, which may publish only to its declared topics
      (and its own dead-letter topics), read only its declared secrets, and use Firestore;
    - its code as a deterministic archive named by content hash (redeploy iff it changes);
    - a 2nd-gen function or a Cloud Run service, internal ingress unless declared public
      (then a Cloud Run service with its invoker IAM check disabled: no ``allUsers``);
    - per consumed topic, a :class:`PushSubscription` authenticated with an OIDC token of a
      per-agent invoker service account, the only identity allowed to invoke it.
    """

    service_account: gcp.serviceaccount.Account
    invoker: gcp.serviceaccount.Account | None
    url: pulumi.Output[str]
    subscriptions: dict[str, PushSubscription]

    def __init__(
        self, name: str, args: AgentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:agent:Agent", name, None, opts)
        plan = args.plan
        labels = {**args.labels, "agent": plan.name}
        child = pulumi.ResourceOptions(parent=self)

        self.service_account = gcp.serviceaccount.Account(
            f"{plan.name}-runtime",
            project=args.project,
            account_id=plan.service_account_id,
            display_name=f"Switchboard agent {plan.name} (runtime)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        agent_member = self.service_account.email.apply(lambda e: f"serviceAccount:{e}")

        grants = self._grant_runtime_access(args, agent_member)
        # Dead-letter routes first: the runtime publishes its permanent failures to them,
        # so the first revision waits for the agent's grant on each (push comes later).
        self.subscriptions = {
            consumer.topic: PushSubscription(
                consumer.subscription_id,
                PushSubscriptionArgs(
                    project=args.project,
                    consumer=consumer,
                    topic_id=args.topics[consumer.topic].id,
                    pubsub_service_agent=args.pubsub_service_agent,
                    agent_member=agent_member,
                    labels=labels,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for consumer in plan.consumers
        }
        grants += [route.agent_publisher for route in self.subscriptions.values()]
        # A revision checks its secret access when it is created: wait for the grants to
        # take effect, not only to exist (infra/iam/propagation.py).
        propagated = GrantPropagation(
            f"{plan.name}-runtime-grants-propagated",
            GrantPropagationArgs(grants=grants),
            opts=child,
        )

        self.archive = build_archive(
            args.functions_root, plan.name, args.build_dir, archive_kind(plan.platform)
        )
        source = gcp.storage.BucketObject(
            f"{plan.name}-source",
            bucket=args.source_bucket.name,
            name=self.archive.object_name,
            source=pulumi.FileAsset(str(self.archive.path)),
            content_type=self.archive.content_type,
            opts=child,
        )
        self.image = self._declare_image(args, source) if plan.platform == "run" else None
        workload = declare_workload(
            WorkloadInputs(
                project=args.project,
                region=args.region,
                plan=plan,
                source_bucket=args.source_bucket.name,
                source_object=source.name,
                service_account_email=self.service_account.email,
                builder_name=args.builder_name,
                repository_id=args.repository_id,
                secrets={name: args.secrets[name] for name in plan.secret_env.values()},
                labels=labels,
                deletion_protection=args.deletion_protection,
                egress=args.egress,
                image=self.image,
            ),
            parent=self,
            # The runtime identity's grants, the build identity's grants, and the secret
            # versions the revision reads: all must exist before the first revision starts.
            depends_on=[
                *grants,
                propagated,
                *args.builder_grants,
                *(r for name in plan.secret_env.values() for r in args.secrets[name].wait_for),
                *args.depends_on,
            ],
        )
        self.workload = workload.resource
        self.url = workload.uri

        # A public agent is public through its service's invoker_iam_disabled (see
        # AgentPlan.invoker_iam_disabled), never through an allUsers grant.

        self.invoker = None
        if plan.consumers:
            self._declare_push(args, workload.service_name)

        self.register_outputs(
            {
                "service_account": self.service_account.email,
                "url": self.url,
                "archive": self.archive.object_name,
                "subscriptions": {t: s.subscription.name for t, s in self.subscriptions.items()},
            }
        )

    def _declare_image(self, args: AgentArgs, source: gcp.storage.BucketObject) -> AgentImage:
        """A Cloud Run agent's image, built from the uploaded archive (functions build
        their own). Waits for the archive, the build identity's grants and the APIs."""
        plan = args.plan
        return AgentImage(
            f"{plan.name}-image",
            AgentImageArgs(
                project=args.project,
                region=args.region,
                agent=plan.name,
                repository=REPOSITORY_ID,
                content_hash=self.archive.content_hash,
                source_bucket=args.source_bucket.name,
                source_object=source.name,
                runtime=plan.runtime,
                function_target=plan.entry_point,
                base_image=BASE_IMAGES[plan.runtime].format(region=args.region),
                service_account=args.builder_name,
                depends_on=[source, *args.builder_grants, *args.depends_on],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _grant_runtime_access(
        self, args: AgentArgs, member: pulumi.Output[str]
    ) -> list[pulumi.CustomResource]:
        plan = args.plan
        child = pulumi.ResourceOptions(parent=self)
        grants: list[pulumi.CustomResource] = []
        for grant in plan.grants:
            if grant.member != "agent" or (
                grant.kind == "topic" and grant.resource not in args.topics
            ):
                continue  # dead-letter topic grants are made by the PushSubscription
            if grant.kind == "topic":
                grants.append(
                    gcp.pubsub.TopicIAMMember(
                        f"{plan.name}-publishes-{grant.resource}",
                        project=args.project,
                        topic=args.topics[grant.resource].name,
                        role=ROLE_PUBLISHER,
                        member=member,
                        opts=child,
                    )
                )
            elif grant.kind == "secret":
                grants.append(
                    gcp.secretmanager.SecretIamMember(
                        f"{plan.name}-reads-{grant.resource}",
                        project=args.project,
                        secret_id=args.secrets[grant.resource].secret_id,
                        role=ROLE_SECRET_ACCESSOR,
                        member=member,
                        opts=child,
                    )
                )
            elif grant.kind == "project" and grant.role == ROLE_DATASTORE_USER:
                # Firestore IAM has no resource finer than the project: datastore.user
                # is granted project-wide, to this agent's own service account only.
                grants.append(
                    gcp.projects.IAMMember(
                        f"{plan.name}-firestore-user",
                        project=args.project,
                        role=ROLE_DATASTORE_USER,
                        member=member,
                        opts=child,
                    )
                )
            else:  # pragma: no cover - plan and component must move together
                raise AssertionError(f"unhandled grant for agent {plan.name}: {grant}")
        return grants

    def _declare_push(self, args: AgentArgs, service_name: pulumi.Input[str]) -> None:
        plan = args.plan
        assert plan.invoker_account_id is not None
        self.invoker = gcp.serviceaccount.Account(
            f"{plan.name}-invoker",
            project=args.project,
            account_id=plan.invoker_account_id,
            display_name=f"Switchboard agent {plan.name} (Pub/Sub push identity)",
            opts=pulumi.ResourceOptions(parent=self),
        )
        invoker_member = self.invoker.email.apply(lambda e: f"serviceAccount:{e}")
        run_invoker = gcp.cloudrunv2.ServiceIamMember(
            f"{plan.name}-push-invoker",
            project=args.project,
            location=args.region,
            name=service_name,
            role=ROLE_RUN_INVOKER,
            member=invoker_member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Pub/Sub's service agent mints OIDC tokens for this invoker only, never project-wide.
        token_creator = gcp.serviceaccount.IAMMember(
            f"{plan.name}-invoker-token-creator",
            service_account_id=self.invoker.name,
            role=ROLE_TOKEN_CREATOR,
            member=args.pubsub_service_agent,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The first push needs both grants in effect, and a dead letter needs the service
        # agent's publish grant on the dead-letter topic: a push refused with 403 is
        # retried, then dead-lettered, so the subscription waits for them to propagate.
        push_grants = [
            run_invoker,
            token_creator,
            *(route.pubsub_publisher for route in self.subscriptions.values()),
        ]
        propagated = GrantPropagation(
            f"{plan.name}-push-grants-propagated",
            GrantPropagationArgs(grants=push_grants),
            opts=pulumi.ResourceOptions(parent=self),
        )
        target = PushTarget(
            endpoint=self.url,
            invoker_email=self.invoker.email,
            depends_on=(run_invoker, token_creator, propagated),
        )
        for route in self.subscriptions.values():
            route.attach(target)
