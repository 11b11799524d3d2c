"""One agent, end to end: identities, packaged code, compute, IAM, and its subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from infra.agent.grants import GrantTarget, declare_grants
from infra.agent.plan import AgentPlan, Grant, Member
from infra.agent.subscription import (
    DeferredPushTarget,
    PushSubscription,
    PushSubscriptionArgs,
)
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
    grants: dict[Grant, pulumi.CustomResource]
    """Every grant of the plan (``AgentPlan.grants``), each as its one IAM member, whichever
    component holds it."""

    def __init__(
        self, name: str, args: AgentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:agent:Agent", name, None, opts)
        plan = args.plan
        self._plan_name = plan.name
        labels = {**args.labels, "agent": plan.name}
        child = pulumi.ResourceOptions(parent=self)

        self.service_account = gcp.serviceaccount.Account(
            f"{plan.name}-runtime",
            project=args.project,
            account_id=plan.service_account_id,
            display_name=f"Switchboard agent {plan.name} (runtime)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        members: dict[Member, pulumi.Input[str]] = {
            "agent": self.service_account.email.apply(lambda e: f"serviceAccount:{e}"),
            "pubsub-service-agent": args.pubsub_service_agent,
        }
        self.invoker = invoker = self._declare_invoker(args)
        if invoker is not None:
            members["invoker"] = invoker.email.apply(lambda e: f"serviceAccount:{e}")

        self.grants = {}
        runtime = self._hold(
            declare_grants(plan.grants, self._runtime_targets(args), members, self)
        )
        push = DeferredPushTarget(invoker.email) if invoker is not None else None
        with push or nullcontext():
            self.subscriptions = self._declare_routes(args, members, labels, push)
            # Dead-letter routes first: the runtime publishes its permanent failures to them,
            # so the first revision waits for the agent's grant on each (push comes later).
            runtime_grants = [
                *runtime.values(),
                *(
                    g
                    for route in self.subscriptions.values()
                    for g in route.dead_letter_grants_to("agent")
                ),
            ]
            # A revision checks its secret access when it is created: wait for the grants to
            # take effect, not only to exist (infra/iam/propagation.py).
            propagated = GrantPropagation(
                f"{plan.name}-runtime-grants-propagated",
                GrantPropagationArgs(grants=runtime_grants),
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
                    *runtime_grants,
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

            if invoker is not None and push is not None:
                self._declare_push(args, invoker, members, workload.service_name, push)
        self._check_book(plan)

        self.register_outputs(
            {
                "service_account": self.service_account.email,
                "url": self.url,
                "archive": self.archive.object_name,
                "subscriptions": {t: s.subscription.name for t, s in self.subscriptions.items()},
            }
        )

    def _runtime_targets(self, args: AgentArgs) -> list[GrantTarget]:
        """The resources the runtime identity's own grants are on: the bus's topics, the
        secrets, and the project (Firestore IAM has no finer resource)."""
        project = args.project
        return [
            *(
                GrantTarget("topic", topic_name, topic.name, project=project)
                for topic_name, topic in args.topics.items()
            ),
            *(
                GrantTarget("secret", secret_name, secret.secret_id, project=project)
                for secret_name, secret in args.secrets.items()
            ),
            GrantTarget("project", "firestore", project),
        ]

    def _declare_routes(
        self,
        args: AgentArgs,
        members: Mapping[Member, pulumi.Input[str]],
        labels: dict[str, str],
        push: DeferredPushTarget | None,
    ) -> dict[str, PushSubscription]:
        """Per consumed topic, its :class:`PushSubscription` (with the dead-letter route
        the runtime publishes to): declared before the workload, which waits for the
        agent's grant on each dead-letter topic; ``push`` is resolved after it."""
        plan = args.plan
        routes: dict[str, PushSubscription] = {}
        for consumer in plan.consumers:
            if push is None:
                raise ValueError(f"agent {plan.name} consumes {consumer.topic} but has no invoker")
            route = PushSubscription(
                consumer.subscription_id,
                PushSubscriptionArgs(
                    project=args.project,
                    consumer=consumer,
                    topic_id=args.topics[consumer.topic].id,
                    grants=plan.grants,
                    members=members,
                    target=push.target,
                    labels=labels,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self._hold(route.grants)
            routes[consumer.topic] = route
        return routes

    def _declare_push(
        self,
        args: AgentArgs,
        invoker: gcp.serviceaccount.Account,
        members: Mapping[Member, pulumi.Input[str]],
        service_name: pulumi.Input[str],
        push: DeferredPushTarget,
    ) -> None:
        """The invoker's grants, on the agent's service (it invokes it) and on the invoker
        account (Pub/Sub's service agent mints its tokens, never project-wide); then the
        push target the subscriptions wait for."""
        plan = args.plan
        assert plan.invoker_account_id is not None
        targets = [
            GrantTarget(
                "service", plan.name, service_name, project=args.project, location=args.region
            ),
            GrantTarget("service-account", plan.invoker_account_id, invoker.name),
        ]
        push_grants = self._hold(declare_grants(plan.grants, targets, members, self))
        # The first push needs both grants in effect, and a dead letter needs the service
        # agent's publish grant on the dead-letter topic: a push refused with 403 is
        # retried, then dead-lettered, so the subscriptions wait for them to propagate.
        propagated = GrantPropagation(
            f"{plan.name}-push-grants-propagated",
            GrantPropagationArgs(
                grants=[
                    *push_grants.values(),
                    *(
                        g
                        for route in self.subscriptions.values()
                        for g in route.dead_letter_grants_to("pubsub-service-agent")
                    ),
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        push.resolve(self.url, [*push_grants.values(), propagated])

    def _declare_invoker(self, args: AgentArgs) -> gcp.serviceaccount.Account | None:
        """The identity Pub/Sub pushes as (an agent that consumes nothing has none)."""
        plan = args.plan
        if plan.invoker_account_id is None:
            return None
        return gcp.serviceaccount.Account(
            f"{plan.name}-invoker",
            project=args.project,
            account_id=plan.invoker_account_id,
            display_name=f"Switchboard agent {plan.name} (Pub/Sub push identity)",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _hold(
        self, declared: dict[Grant, pulumi.CustomResource]
    ) -> dict[Grant, pulumi.CustomResource]:
        """Enter ``declared`` in :attr:`grants`: each planned grant is declared once."""
        twice = declared.keys() & self.grants.keys()
        if twice:
            raise ValueError(f"agent {self._plan_name}: grants declared twice: {sorted(twice)}")
        self.grants |= declared
        return declared

    def _check_book(self, plan: AgentPlan) -> None:
        """Every grant of the plan was declared by the component holding its resource."""
        unheld = [grant for grant in plan.grants if grant not in self.grants]
        if unheld:
            raise ValueError(
                f"agent {plan.name}: no resource of the program holds these planned grants: "
                + "; ".join(f"{g.role} on {g.kind} {g.resource!r} to {g.member}" for g in unheld)
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
