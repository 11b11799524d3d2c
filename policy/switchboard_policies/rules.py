"""Resource policies: ``(resource_type, props, context) -> [message, ...]``.

``props`` are the resource's inputs with the engine's camelCase keys, exactly what
CrossGuard passes and what the offline render records. Under CrossGuard, reading a value
that is unknown during a preview raises ``UnknownValueError``, which the framework reports
as "can't run during preview" (the policy then runs at ``pulumi up``), never as a violation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .model import Context, get

SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
RUN_SERVICE = "gcp:cloudrunv2/service:Service"
RUN_SERVICE_IAM_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
RUN_SERVICE_IAM = (RUN_SERVICE_IAM_MEMBER, "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding")
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
RUN_INVOKER = "roles/run.invoker"
SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
SECRET_VALUE = re.compile(r"^(sk|rk)_(live|test)_|^whsec_|-----BEGIN [A-Z ]*PRIVATE KEY|^AIza")
MAX_DELIVERY_ATTEMPTS = (5, 100)

Props = Mapping[str, Any]


def _push(resource_type: str, props: Props) -> bool:
    return resource_type == SUBSCRIPTION and bool(props.get("pushConfig"))


def _name(props: Props) -> str:
    return str(props.get("name") or "?")


def push_subscription_oidc(resource_type: str, props: Props, context: Context) -> list[str]:
    """Every push subscription authenticates with an OIDC token (a per-agent invoker)."""
    if not _push(resource_type, props):
        return []
    if get(props, "pushConfig.oidcToken.serviceAccountEmail"):
        return []
    return [
        f"push subscription {_name(props)} has no pushConfig.oidcToken.serviceAccountEmail: "
        "the endpoint would accept unauthenticated pushes"
    ]


def push_subscription_dead_letter(resource_type: str, props: Props, context: Context) -> list[str]:
    """Every push subscription has a dead-letter policy (topic, 5..100 attempts)."""
    if not _push(resource_type, props):
        return []
    topic = get(props, "deadLetterPolicy.deadLetterTopic")
    if not topic:
        return [
            f"push subscription {_name(props)} has no deadLetterPolicy.deadLetterTopic: "
            "poison messages would be retried until they expire"
        ]
    attempts = get(props, "deadLetterPolicy.maxDeliveryAttempts")
    low, high = MAX_DELIVERY_ATTEMPTS
    if isinstance(attempts, int | float) and not low <= attempts <= high:
        return [f"subscription {_name(props)}: maxDeliveryAttempts {attempts} not in {low}..{high}"]
    return []


def push_subscription_retry(resource_type: str, props: Props, context: Context) -> list[str]:
    """Every push subscription has an explicit retry policy (exponential backoff)."""
    if not _push(resource_type, props):
        return []
    policy = props.get("retryPolicy")
    if (
        isinstance(policy, Mapping)
        and policy.get("minimumBackoff")
        and policy.get("maximumBackoff")
    ):
        return []
    return [
        f"push subscription {_name(props)} has no retryPolicy with minimumBackoff and "
        "maximumBackoff: failures would be redelivered immediately"
    ]


def subscription_never_expires(resource_type: str, props: Props, context: Context) -> list[str]:
    """No subscription expires (``expirationPolicy.ttl == ""``; the default is 31 days)."""
    if resource_type != SUBSCRIPTION:
        return []
    ttl = get(props, "expirationPolicy.ttl")
    if ttl == "":
        return []
    return [
        f"subscription {_name(props)} may expire (expirationPolicy.ttl is {ttl!r}, must be "
        '""): an idle subscription is deleted after 31 days'
    ]


def _is_iam(resource_type: str) -> bool:
    token = resource_type.rsplit(":", 1)[-1].lower()
    return token.endswith(("iammember", "iambinding", "iampolicy"))


def _grants(props: Props) -> Iterator[tuple[str, str]]:
    """(role, member) pairs of an IAM member, binding or policy resource."""
    role = props.get("role")
    members = [props.get("member")] if "member" in props else list(props.get("members") or [])
    if isinstance(role, str):
        for member in members:
            if isinstance(member, str):
                yield role, member
    policy = props.get("policyData")
    if isinstance(policy, str):
        import json

        try:
            bindings = json.loads(policy).get("bindings", [])
        except (ValueError, AttributeError):
            bindings = []
        for binding in bindings:
            for member in binding.get("members", []):
                yield str(binding.get("role")), str(member)


def _target(props: Props) -> str:
    for key in ("name", "service", "topic", "subscription", "secretId", "bucket", "repository"):
        value = props.get(key)
        if isinstance(value, str):
            return f"{key} {value}"
    return f"project {props.get('project', '?')}"


def no_primitive_roles(resource_type: str, props: Props, context: Context) -> list[str]:
    """No owner/editor/viewer anywhere."""
    if not _is_iam(resource_type):
        return []
    return [
        f"primitive role {role} granted to {member} on {_target(props)}: use a predefined role"
        for role, member in _grants(props)
        if role in PRIMITIVE_ROLES
    ]


def no_public_members(resource_type: str, props: Props, context: Context) -> list[str]:
    """No allUsers/allAuthenticatedUsers anywhere (Domain Restricted Sharing refuses them);
    a public agent disables its Cloud Run service's invoker IAM check instead."""
    if not _is_iam(resource_type):
        return []
    messages = []
    for role, member in _grants(props):
        if member not in PUBLIC_MEMBERS:
            continue
        remedy = (
            "declare the agent public in its agent.yaml (ingress: public, public_reason): "
            "its Cloud Run service then disables the invoker IAM check"
            if resource_type in RUN_SERVICE_IAM and role == RUN_INVOKER
            else "grant a named principal"
        )
        messages.append(
            f"{member} gets {role} on {_target(props)}: refused by Domain Restricted Sharing "
            f"(iam.allowedPolicyMemberDomains, secure-by-default since 2024-05-03); {remedy}"
        )
    return messages


def invoker_check_only_on_public_agents(
    resource_type: str, props: Props, context: Context
) -> list[str]:
    """Only an agent declared public (with a public_reason) disables Cloud Run's invoker
    IAM check (``invokerIamDisabled``): anyone on the internet may then call it."""
    if resource_type != RUN_SERVICE or props.get("invokerIamDisabled") is not True:
        return []
    if props.get("name") in context.public_services:
        return []
    return [
        f"Cloud Run service {_name(props)} disables the invoker IAM check but is not an agent "
        f"declared public with a public_reason (public: "
        f"{sorted(context.public_services) or 'none'}): set invokerIamDisabled false"
    ]


def no_project_token_creator(resource_type: str, props: Props, context: Context) -> list[str]:
    """serviceAccountTokenCreator only on one service account, never project-wide."""
    if not (
        _is_iam(resource_type)
        and resource_type.startswith(("gcp:projects/", "gcp:organizations/", "gcp:folder/"))
    ):
        return []
    return [
        f"{role} granted project-wide to {member}: grant it on the one service account "
        "it must impersonate"
        for role, member in _grants(props)
        if role == TOKEN_CREATOR
    ]


def _plain_env(resource_type: str, props: Props) -> Iterator[tuple[str, Any]]:
    if resource_type == FUNCTION:
        for path in ("serviceConfig.environmentVariables", "buildConfig.environmentVariables"):
            env = get(props, path)
            if isinstance(env, Mapping):
                yield from env.items()
    if resource_type == RUN_SERVICE:
        for container in get(props, "template.containers", []) or []:
            for env in (container or {}).get("envs", []) or []:
                if isinstance(env, Mapping) and not env.get("valueSource"):
                    yield str(env.get("name")), env.get("value")


def no_plain_secret_env(resource_type: str, props: Props, context: Context) -> list[str]:
    """Secret-looking variables come from Secret Manager (secret env / valueSource)."""
    messages = []
    for name, value in _plain_env(resource_type, props):
        if SECRET_NAME.search(name):
            messages.append(
                f"{_name(props)}: environment variable {name} looks like a secret but is a "
                "plain value: use secretEnvironmentVariables / valueSource.secretKeyRef"
            )
        elif isinstance(value, str) and SECRET_VALUE.search(value):
            messages.append(f"{_name(props)}: environment variable {name} holds a secret value")
    return messages


def max_instances_set(resource_type: str, props: Props, context: Context) -> list[str]:
    """Every function and service caps its instances (a retry storm must not scale out)."""
    if resource_type == FUNCTION:
        path = "serviceConfig.maxInstanceCount"
    elif resource_type == RUN_SERVICE:
        path = "template.scaling.maxInstanceCount"
    else:
        return []
    value = get(props, path)
    if isinstance(value, int | float) and value > 0:
        return []
    if value is not None and not isinstance(value, int | float):
        return []  # unknown during preview
    return [f"{_name(props)} has no {path}: set a maximum instance count"]
