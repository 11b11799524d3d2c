"""The plan's grants are the one book: each becomes exactly one IAM member, declared by
the component holding its resource, and nothing else grants an agent anything."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, get_args

import pytest

import infra.agent.component
import infra.program
from infra.agent import grants as grants_module
from infra.agent.grants import TRANSLATORS
from infra.agent.plan import ROLE_PUBLISHER, AgentPlan, Grant, ResourceKind, plan_fleet
from infra.agent.subscription import DeferredPushTarget
from infra.catalogue import load_catalogue
from infra.offline.harness import Run, run_stack, run_under_mocks
from infra.offline.mocks import Registration
from tests.committed_renders import committed_run
from tests.infra.test_settings import settings_for

AGENT = "switchboard:agent:Agent"
IAM_MEMBER_TYPES: dict[ResourceKind, str] = {
    "topic": "gcp:pubsub/topicIAMMember:TopicIAMMember",
    "subscription": "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember",
    "secret": "gcp:secretmanager/secretIamMember:SecretIamMember",
    "project": "gcp:projects/iAMMember:IAMMember",
    "service": "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "service-account": "gcp:serviceaccount/iAMMember:IAMMember",
}


def rendered(stack: str) -> Run:
    return committed_run(stack)


def _agent_of(registration: Registration, by_urn: dict[str, Registration]) -> str | None:
    node = by_urn.get(registration.parent)
    while node is not None and node.type != AGENT:
        node = by_urn.get(node.parent)
    return node.name if node else None


def agent_iam_members(run: Run) -> dict[str, dict[str, Registration]]:
    """Every IAM member declared inside an agent (its component or a child's), per agent,
    by name."""
    by_urn = {r.urn: r for r in run.registrations}
    members: dict[str, dict[str, Registration]] = {}
    for r in run.registrations:
        if r.type in IAM_MEMBER_TYPES.values():
            agent = _agent_of(r, by_urn)
            if agent is not None:
                members.setdefault(agent, {})[r.name] = r
    return members


def test_every_resource_kind_has_exactly_one_translator() -> None:
    assert set(TRANSLATORS) == set(get_args(ResourceKind)) == set(IAM_MEMBER_TYPES)


def test_a_kind_without_a_translator_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    incomplete = {k: v for k, v in TRANSLATORS.items() if k != "subscription"}
    monkeypatch.setattr(grants_module, "TRANSLATORS", incomplete)
    with pytest.raises(TypeError, match=r"missing \['subscription'\]"):
        grants_module._check_complete()


def test_dead_letter_grants_are_in_the_book() -> None:
    plans = plan_fleet(load_catalogue(), settings_for("dev"))
    for plan in plans.values():
        for consumer in plan.consumers:
            on_dead_letter = {
                (g.member, g.role)
                for g in plan.grants
                if g.resource == consumer.dead_letter_topic_id
            }
            assert on_dead_letter == {
                ("pubsub-service-agent", ROLE_PUBLISHER),
                ("agent", ROLE_PUBLISHER),
            }, consumer.subscription_id
            assert any(
                g.kind == "subscription" and g.resource == consumer.subscription_id
                for g in plan.grants
            ), consumer.subscription_id


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_planned_grant_is_exactly_one_iam_member_of_its_kind(stack: str) -> None:
    run = rendered(stack)
    plans = plan_fleet(load_catalogue(), settings_for(stack))
    members = agent_iam_members(run)
    assert set(members) == {name for name, plan in plans.items() if plan.grants}
    for name, plan in plans.items():
        assert len({g.name for g in plan.grants}) == len(plan.grants), name
        assert set(members.get(name, {})) == {g.name for g in plan.grants}, name
        for grant in plan.grants:
            member = members[name][grant.name]
            assert member.type == IAM_MEMBER_TYPES[grant.kind], grant
            assert member.inputs["role"] == grant.role, grant


def _with_plan(
    monkeypatch: pytest.MonkeyPatch, agent: str, change: Callable[[AgentPlan], AgentPlan]
) -> None:
    """The program runs with ``agent``'s plan changed by ``change``."""

    def plans(*args: Any) -> dict[str, AgentPlan]:
        fleet = plan_fleet(*args)
        return {**fleet, agent: change(fleet[agent])}

    monkeypatch.setattr(infra.program, "plan_fleet", plans)


def _grants_where(
    plan: AgentPlan, keep: Callable[[Grant], bool], edit: Callable[[Grant], Grant | None]
) -> AgentPlan:
    changed = [g if not keep(g) else edit(g) for g in plan.grants]
    return dataclasses.replace(plan, grants=tuple(g for g in changed if g is not None))


@pytest.mark.slow
def test_the_dead_letter_grants_made_are_the_planned_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """The push subscription declares what the plan says on its resources, nothing of its
    own: a grant left out of the plan is not made, a role changed in the plan is made."""
    subscriber = "scheduler-on-bookings-pubsub-subscriber"
    forwarder = "scheduler-on-bookings-dead-letter-pubsub-publisher"
    _with_plan(
        monkeypatch,
        "scheduler",
        lambda plan: _grants_where(
            plan,
            lambda g: g.name in (subscriber, forwarder),
            lambda g: None if g.name == subscriber else dataclasses.replace(g, role="roles/x"),
        ),
    )
    members = agent_iam_members(run_stack("dev"))["scheduler"]
    assert subscriber not in members
    assert members[forwarder].inputs["role"] == "roles/x"


def test_a_planned_grant_no_resource_holds_fails_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stray = Grant("topic", "nowhere", ROLE_PUBLISHER, "agent", "ledger-publishes-nowhere", "test")
    _with_plan(
        monkeypatch,
        "ledger",
        lambda plan: dataclasses.replace(plan, grants=tuple(sorted((*plan.grants, stray)))),
    )
    with pytest.raises(ValueError, match=r"agent ledger: no resource .* 'nowhere' to agent"):
        run_stack("dev")


@pytest.fixture
def deadline() -> Iterator[None]:
    """A run that never ends (an output never resolved) fails the test instead."""

    def expired(_signal: int, _frame: FrameType | None) -> None:
        raise TimeoutError("the program did not finish: an output was never resolved")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("deadline")
def test_an_error_before_the_push_target_resolves_is_raised_not_hung(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise ValueError("no workload today")

    monkeypatch.setattr(infra.agent.component, "declare_workload", refuse)
    with pytest.raises(ValueError, match="no workload today"):
        run_stack("dev")


@pytest.mark.usefixtures("deadline")
def test_a_push_target_never_resolved_is_an_error() -> None:
    def program() -> None:
        with DeferredPushTarget("push@example.iam.gserviceaccount.com"):
            pass

    with pytest.raises(RuntimeError, match="never resolved"):
        run_under_mocks(program, stack="dev", config={})
