"""How each kind of resource an agent's plan names grants a role on itself.

``AgentPlan.grants`` is the one book of an agent's IAM grants. The component that holds a
resource declares the grants on it (in the spirit of CDK's ``topic.grant_publish(member)``):
it describes the resource as a :class:`GrantTarget` and :func:`declare_grants` turns each
grant of the book on that resource into one IAM member resource named ``Grant.name``,
through :data:`TRANSLATORS`, one entry per :data:`~infra.agent.plan.ResourceKind` (checked
complete when this module is imported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import get_args

import pulumi
import pulumi_gcp as gcp

from infra.agent.plan import Grant, Member, ResourceKind


@dataclass(frozen=True)
class GrantTarget:
    """One resource the plan's grants may name (``kind``/``resource``, as in
    :class:`~infra.agent.plan.Grant`) and how its IAM API addresses it."""

    kind: ResourceKind
    resource: str
    address: pulumi.Input[str]
    """What the IAM member resource names it by: the topic's or subscription's name, the
    secret's id, the Cloud Run service's name, the service account's full name, or the
    project id."""
    project: str | None = None
    location: str | None = None

    def grant(
        self, grant: Grant, member: pulumi.Input[str], parent: pulumi.Resource
    ) -> pulumi.CustomResource:
        """``grant`` on this resource, as one IAM member resource (child of ``parent``)."""
        if (grant.kind, grant.resource) != (self.kind, self.resource):
            raise ValueError(f"{grant} is not a grant on {self.kind} {self.resource!r}")
        return TRANSLATORS[self.kind](self, grant, member, pulumi.ResourceOptions(parent=parent))


Translator = Callable[
    [GrantTarget, Grant, pulumi.Input[str], pulumi.ResourceOptions], pulumi.CustomResource
]


def _on_topic(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    return gcp.pubsub.TopicIAMMember(
        grant.name,
        project=target.project,
        topic=target.address,
        role=grant.role,
        member=member,
        opts=opts,
    )


def _on_subscription(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    return gcp.pubsub.SubscriptionIAMMember(
        grant.name,
        project=target.project,
        subscription=target.address,
        role=grant.role,
        member=member,
        opts=opts,
    )


def _on_secret(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    return gcp.secretmanager.SecretIamMember(
        grant.name,
        project=target.project,
        secret_id=target.address,
        role=grant.role,
        member=member,
        opts=opts,
    )


def _on_project(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    # Firestore IAM has no resource finer than the project: the grant is project-wide, to
    # the one member the plan names.
    return gcp.projects.IAMMember(
        grant.name, project=target.address, role=grant.role, member=member, opts=opts
    )


def _on_service(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    return gcp.cloudrunv2.ServiceIamMember(
        grant.name,
        project=target.project,
        location=target.location,
        name=target.address,
        role=grant.role,
        member=member,
        opts=opts,
    )


def _on_service_account(
    target: GrantTarget, grant: Grant, member: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    return gcp.serviceaccount.IAMMember(
        grant.name, service_account_id=target.address, role=grant.role, member=member, opts=opts
    )


TRANSLATORS: Mapping[ResourceKind, Translator] = {
    "topic": _on_topic,
    "subscription": _on_subscription,
    "secret": _on_secret,
    "project": _on_project,
    "service": _on_service,
    "service-account": _on_service_account,
}
"""How a grant on each kind of resource becomes an IAM member resource."""


def _check_complete() -> None:
    kinds, translated = set(get_args(ResourceKind)), set(TRANSLATORS)
    if translated != kinds:
        raise TypeError(
            "infra/agent/grants.py: TRANSLATORS must hold exactly one entry per ResourceKind; "
            f"missing {sorted(kinds - translated)}, unknown {sorted(translated - kinds)}"
        )


_check_complete()


def declare_grants(
    book: Iterable[Grant],
    on: Iterable[GrantTarget],
    members: Mapping[Member, pulumi.Input[str]],
    parent: pulumi.Resource,
) -> dict[Grant, pulumi.CustomResource]:
    """Every grant of ``book`` on one of the resources ``on``, in the book's order, as one
    IAM member resource each (children of ``parent``). Grants on other resources are left
    to the component that holds them."""
    targets = {(target.kind, target.resource): target for target in on}
    declared: dict[Grant, pulumi.CustomResource] = {}
    for grant in book:
        target = targets.get((grant.kind, grant.resource))
        if target is None:
            continue
        if grant.member not in members:
            raise ValueError(f"{grant}: no identity for the member {grant.member!r}")
        declared[grant] = target.grant(grant, members[grant.member], parent)
    return declared
