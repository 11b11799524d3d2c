"""Adapt the pure policies (``switchboard_policies``) to CrossGuard.

Imported by ``__main__.py`` (which serves the pack) and by ``check_pack.py`` (which
proves every pure policy is wrapped, without an engine). Configuration, per policy:
``publicAgents`` (agent names allowed to disable their Cloud Run service's invoker IAM
check; default: the agents ``../functions/*/agent.yaml`` declares public with a reason;
no agent is ever allowed ``allUsers``) and ``stack`` (default: the resources' ``stack`` label).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from switchboard_policies import POLICIES, Context, Resource
from switchboard_policies.model import infer_stack
from switchboard_policies.registry import Policy as PurePolicy
from switchboard_policies.sources import public_agents

FUNCTIONS_ROOT = Path(__file__).resolve().parent.parent / "functions"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "publicAgents": {"type": "array", "items": {"type": "string"}},
        "stack": {"type": "string"},
    }
)


@cache
def _catalogue_public_agents() -> frozenset[str]:
    return public_agents(FUNCTIONS_ROOT) if FUNCTIONS_ROOT.is_dir() else frozenset()


def context_from(config: Mapping[str, Any], resources: list[Resource] | None = None) -> Context:
    configured = config.get("publicAgents")
    public = frozenset(configured) if configured is not None else _catalogue_public_agents()
    stack = config.get("stack") or (infer_stack(resources) if resources else None)
    return Context(stack=stack, public_services=public)


def _resource_policy(pure: PurePolicy) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        context = context_from(args.get_config())
        for message in pure.check(args.resource_type, args.props, context):  # type: ignore[call-arg,arg-type]
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=pure.name,
        description=pure.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=CONFIG_SCHEMA,
    )


def _stack_policy(pure: PurePolicy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            Resource(
                type=r.resource_type,
                name=r.name,
                props=r.props,
                protect=bool(r.opts.protect) if r.opts is not None else False,
                id=r.urn,
            )
            for r in args.resources
        ]
        context = context_from(args.get_config(), resources)
        for finding in pure.check(resources, context):  # type: ignore[call-arg,arg-type]
            if not finding.note:
                report_violation(finding.message, finding.resource)

    return StackValidationPolicy(
        name=pure.name,
        description=pure.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=CONFIG_SCHEMA,
    )


def build_policies() -> list[Policy]:
    """One CrossGuard policy per pure policy, same name, same order."""
    return [_resource_policy(p) if p.kind == "resource" else _stack_policy(p) for p in POLICIES]
