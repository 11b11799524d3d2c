"""Every policy, once: name, description, kind and the pure function that checks it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import rules, stack_rules
from .model import Context, Finding, Resource, UnknownValueError, Violation

ResourceCheck = Callable[[str, Any, Context], list[str]]
StackCheck = Callable[[Sequence[Resource], Context], list[Finding]]


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    kind: Literal["resource", "stack"]
    check: ResourceCheck | StackCheck


def _resource(name: str, check: ResourceCheck) -> Policy:
    return Policy(name, (check.__doc__ or name).strip(), "resource", check)


def _stack(name: str, check: StackCheck) -> Policy:
    return Policy(name, (check.__doc__ or name).strip(), "stack", check)


POLICIES: tuple[Policy, ...] = (
    _resource("push-subscription-oidc", rules.push_subscription_oidc),
    _resource("push-subscription-dead-letter", rules.push_subscription_dead_letter),
    _resource("push-subscription-retry-policy", rules.push_subscription_retry),
    _resource("subscription-never-expires", rules.subscription_never_expires),
    _resource("no-primitive-roles", rules.no_primitive_roles),
    _resource("no-public-members", rules.no_public_members),
    _resource("invoker-check-only-on-public-agents", rules.invoker_check_only_on_public_agents),
    _resource("no-project-token-creator", rules.no_project_token_creator),
    _resource("no-plain-secret-env", rules.no_plain_secret_env),
    _resource("max-instances-set", rules.max_instances_set),
    _stack("dead-letter-topic-has-subscription", stack_rules.dead_letter_topic_has_subscription),
    _stack("one-service-account-per-agent", stack_rules.one_service_account_per_agent),
    _stack("prod-deletion-protection", stack_rules.prod_deletion_protection),
    _stack("prod-firestore-backups", stack_rules.prod_firestore_backups),
)


@dataclass(frozen=True)
class Report:
    violations: tuple[Violation, ...]
    notes: tuple[Violation, ...]


def run_policies(
    resources: Iterable[Resource], context: Context, policies: Sequence[Policy] = POLICIES
) -> Report:
    """Run every policy over a stack's resources, as CrossGuard would."""
    resources = list(resources)
    violations: list[Violation] = []
    notes: list[Violation] = []
    for policy in policies:
        if policy.kind == "resource":
            for r in resources:
                try:
                    messages = list(policy.check(r.type, r.props, context))  # type: ignore[call-arg,arg-type]
                except UnknownValueError as unknown:  # as CrossGuard: advisory, not a violation
                    notes.append(Violation(policy.name, r.label, _cannot_run(unknown)))
                    continue
                violations += [Violation(policy.name, r.label, m) for m in messages]
            continue
        try:
            findings = list(policy.check(resources, context))  # type: ignore[call-arg,arg-type]
        except UnknownValueError as unknown:
            notes.append(Violation(policy.name, "(stack)", _cannot_run(unknown)))
            continue
        for finding in findings:
            target = notes if finding.note else violations
            target.append(Violation(policy.name, finding.resource or "(stack)", finding.message))
    return Report(tuple(violations), tuple(notes))


def _cannot_run(unknown: UnknownValueError) -> str:
    return f"can't run during preview: {unknown}; it runs at `pulumi up`"
