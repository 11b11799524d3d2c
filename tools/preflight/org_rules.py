"""Preflight rules for what a new organisation refuses, and for the gen2 build's bucket.

- ``gcf-sources-readable``: a 2nd-gen function is built from Cloud Functions' copy of its
  archive in ``gcf-v2-sources-<project number>-<region>``; its build account must be able
  to read that bucket, and the function must wait for the grant
  (terraform-provider-google #20571; infra/artifacts/sources.py).
- ``org:<constraint>``: Google's secure-by-default organisation policies, enforced in every
  organisation created on or after 2024-05-03
  (https://cloud.google.com/resource-manager/docs/secure-by-default-organizations), and
  the optional constraints of :mod:`infra.org_policies`, minus what the stack relaxes
  (``switchboard:organizationPolicies``). Each finding names the resource that the
  organisation would refuse, and how to fix it or say the organisation allows it.

Default service accounts: since Cloud Build's 2024 service-account change a build with no
account set runs as the compute default account
(https://cloud.google.com/build/docs/cloud-build-service-account-updates), which a
secure-by-default organisation leaves without roles (GoogleCloudPlatform/
terraform-google-cloud-functions #129 describes functions failing exactly so).

What is not modelled: service-account members under Domain Restricted Sharing (the
program's own accounts live in the stack's project; the Pub/Sub service agent is
Google-managed), and anything the program does not declare (VMs, forwarding rules).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from infra.artifacts.sources import GCF_SOURCES_BUCKET_PREFIX
from infra.org_policies import (
    CONTACT_DOMAINS,
    DOMAIN_RESTRICTED_SHARING,
    NO_DEFAULT_SA_GRANTS,
    NO_KEY_CREATION,
    NO_KEY_UPLOAD,
    PUBLIC_ACCESS_PREVENTION,
    REQUIRE_INVOKER_IAM,
    UNIFORM_BUCKET_ACCESS,
)
from library import gcp_types
from tools.preflight.graph import Node, Render

if TYPE_CHECKING:
    from tools.preflight.rules import Finding, Rule, StackFacts

STORAGE_ACL_TYPES = frozenset(
    {
        gcp_types.STORAGE_BUCKET_ACL,
        gcp_types.STORAGE_OBJECT_ACL,
        gcp_types.STORAGE_DEFAULT_OBJECT_ACL,
        gcp_types.STORAGE_BUCKET_ACCESS_CONTROL,
        gcp_types.STORAGE_OBJECT_ACCESS_CONTROL,
        gcp_types.STORAGE_DEFAULT_OBJECT_ACCESS_CONTROL,
    }
)
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
OBJECT_READ_ROLES = frozenset(
    {
        "roles/storage.objectViewer",
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/storage.admin",
    }
)
"""Roles holding storage.objects.get and storage.objects.list (what the build's fetch needs)."""
DEFAULT_ACCOUNT = re.compile(
    r"^(\d+-compute@developer|[a-z0-9-]+@appspot|\d+@cloudbuild)\.gserviceaccount\.com$"
)
PROJECT_NUMBER = re.compile(r"service-(\d+)@gcp-sa-[a-z-]+\.iam\.gserviceaccount\.com")
STARTS_WITH = re.compile(r'resource\.name\.startsWith\(\s*"([^"]*)"\s*\)')
NAME_EQUALS = re.compile(r'resource\.name\s*==\s*"([^"]*)"')


def _finding(rule: str, resource: str, problem: str, fix: str) -> Finding:
    from tools.preflight.rules import Finding  # rules.py registers this module's rules

    return Finding(rule, resource, problem, fix)


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _members(node: Node) -> Iterator[tuple[str, str]]:
    """(role, member) of an IAM member/binding/policy or ACL resource."""
    inputs = node.inputs
    role = str(inputs.get("role", ""))
    if isinstance(inputs.get("member"), str):
        yield role, inputs["member"]
    for member in inputs.get("members") or []:
        yield role, str(member)
    policy = inputs.get("policyData")
    if isinstance(policy, str):
        try:
            bindings = json.loads(policy).get("bindings", [])
        except (ValueError, AttributeError):
            bindings = []
        for binding in bindings if isinstance(bindings, list) else []:
            for member in binding.get("members", []) if isinstance(binding, dict) else []:
                yield str(binding.get("role")), str(member)
    if node.type in STORAGE_ACL_TYPES:
        for entry in [*(inputs.get("roleEntities") or []), inputs.get("entity")]:
            if isinstance(entry, str):
                yield entry.split(":", 1)[0], entry.split(":", 1)[-1]


def _is_iam(node: Node) -> bool:
    token = node.type.rsplit(":", 1)[-1].lower()
    return token.endswith(("iammember", "iambinding", "iampolicy")) or node.type in (
        STORAGE_ACL_TYPES
    )


def _relax_fix(constraint: str, stack: str) -> str:
    return (
        f"or, if this project's organisation does not enforce {constraint}, list it under "
        f"switchboard:organizationPolicies.relax in Pulumi.{stack}.yaml"
    )


# --- the build's copy of the archive --------------------------------------------------


def _condition_admits(condition: Any, names: tuple[str, ...]) -> bool:
    """Whether an IAM condition admits every resource name in ``names``: no condition, or
    one whose name tests (startsWith / ==) admit them. Other terms are not evaluated."""
    expression = _get(condition, "expression") if isinstance(condition, dict) else None
    if not expression:
        return condition is None or condition == {}
    prefixes = STARTS_WITH.findall(str(expression))
    exact = NAME_EQUALS.findall(str(expression))
    if not prefixes and not exact:
        return False  # a condition we cannot read: do not assume it admits the bucket
    return all(any(n.startswith(p) for p in prefixes) or n in exact for n in names)


def _gcf_bucket(render: Render, region: str) -> str:
    numbers = {
        m.group(1)
        for n in render.nodes.values()
        for m in PROJECT_NUMBER.finditer(json.dumps(n.inputs))
    }
    number = min(numbers) if numbers else "0"
    return f"{GCF_SOURCES_BUCKET_PREFIX}{number}-{region}"


def gcf_sources_readable(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """Each 2nd-gen function's build account may read gcf-v2-sources-<number>-<region>
    (objects.get and objects.list) through a grant the function waits for."""
    for function in render.of_type(gcp_types.CLOUD_FUNCTION):
        account = str(_get(function.inputs, "buildConfig", "serviceAccount") or "")
        email = account.rsplit("/", 1)[-1]
        if not email:
            continue  # the default build identity: org:iam.automaticIamGrants... reports it
        region = str(function.inputs.get("location", ""))
        bucket = _gcf_bucket(render, region)
        names = (f"projects/_/buckets/{bucket}", f"projects/_/buckets/{bucket}/objects/x.zip")
        readers = []
        for grant in render.nodes.values():
            member = str(grant.inputs.get("member", ""))
            # In a preview-mode render the account's email is unknown: then any grant to an
            # equally unknown member is taken for it (the function must still wait for it).
            same = member == f"serviceAccount:{email}" if "@" in email else "@" not in member
            if not member or not same:
                continue
            if str(grant.inputs.get("role")) not in OBJECT_READ_ROLES:
                continue
            on_project = grant.type == gcp_types.PROJECT_IAM_MEMBER and _condition_admits(
                grant.inputs.get("condition"), names
            )
            on_bucket = (
                grant.type == gcp_types.STORAGE_BUCKET_IAM_MEMBER
                and grant.inputs.get("bucket") == bucket
            )
            if on_project or on_bucket:
                readers.append(grant)
        waits = render.waits_for(function.id)
        if not readers:
            yield _finding(
                "gcf-sources-readable",
                function.id,
                f"its build runs as {email}, which cannot read {bucket}: Cloud Functions "
                "builds from its own copy of the archive there, so the build fails with "
                '"Access to bucket ... denied" (terraform-provider-google #20571)',
                "grant the build account roles/storage.objectViewer on the project with a "
                'condition resource.name.startsWith("projects/_/buckets/gcf-v2-sources-") '
                "(infra/artifacts/sources.py) and make the function wait for it",
            )
        elif not any(r.id in waits for r in readers):
            yield _finding(
                "gcf-sources-readable",
                function.id,
                f"does not wait for {readers[0].id}, which lets its build read {bucket}: "
                "the first build can start before the grant exists",
                f"add {readers[0].id} to the function's depends_on (AgentSources.builder_grants)",
            )


# --- secure-by-default organisation policies -----------------------------------------


def _domain_of(member: str) -> str | None:
    kind, _, value = member.partition(":")
    if kind == "domain":
        return value.lower()
    if kind in ("user", "group"):
        return value.rsplit("@", 1)[-1].lower()
    return None


def domain_restricted_sharing(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """iam.allowedPolicyMemberDomains: no grant to a principal outside the organisation."""
    if DOMAIN_RESTRICTED_SHARING not in facts.organization.enforced():
        return
    allowed = set(facts.organization.allowed_domains)
    for node in render.nodes.values():
        if not _is_iam(node):
            continue
        for role, member in _members(node):
            domain = _domain_of(member)
            if member in PUBLIC_MEMBERS:
                fix = (
                    "a public agent disables its Cloud Run service's invoker IAM check "
                    "(ingress: public in agent.yaml) instead of granting allUsers"
                    if role == "roles/run.invoker"
                    else "grant a named principal of the organisation"
                )
            elif domain is not None and domain not in allowed:
                fix = (
                    f"grant a principal in {', '.join(sorted(allowed))}"
                    if allowed
                    else "list the organisation's domains in "
                    "switchboard:organizationPolicies.allowedDomains"
                )
            else:
                continue
            yield _finding(
                f"org:{DOMAIN_RESTRICTED_SHARING}",
                node.id,
                f"grants {role} to {member}: refused by Domain Restricted Sharing "
                "(secure-by-default in organisations created since 2024-05-03)",
                f"{fix}; {_relax_fix(DOMAIN_RESTRICTED_SHARING, render.stack)}",
            )


def no_service_account_keys(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """iam.disableServiceAccountKeyCreation / ...KeyUpload: no serviceaccount.Key."""
    enforced = facts.organization.enforced()
    for key in render.of_type(gcp_types.SERVICE_ACCOUNT_KEY):
        constraint = NO_KEY_UPLOAD if key.inputs.get("publicKeyData") else NO_KEY_CREATION
        if constraint not in enforced:
            continue
        yield _finding(
            f"org:{constraint}",
            key.id,
            f"a service-account key: refused by {constraint} (secure-by-default)",
            "use the service account's identity without a key (workload identity federation "
            f"for CI, attached accounts in GCP); {_relax_fix(constraint, render.stack)}",
        )


def _acts_as(node: Node) -> Iterator[tuple[str, str | None]]:
    """(what, email or None for the default account) for functions and services."""
    if node.type == gcp_types.CLOUD_FUNCTION:
        build = str(_get(node.inputs, "buildConfig", "serviceAccount") or "")
        yield "builds", build.rsplit("/", 1)[-1] or None
        yield "runs", str(_get(node.inputs, "serviceConfig", "serviceAccountEmail") or "") or None
    elif node.type == gcp_types.CLOUD_RUN_SERVICE:
        yield "runs", str(_get(node.inputs, "template", "serviceAccount") or "") or None


def no_default_service_accounts(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """iam.automaticIamGrantsForDefaultServiceAccounts: default accounts have no roles, so
    nothing may run or build as one unless the stack grants it what it needs."""
    if NO_DEFAULT_SA_GRANTS not in facts.organization.enforced():
        return
    granted = {
        member.removeprefix("serviceAccount:")
        for node in render.nodes.values()
        if _is_iam(node)
        for _, member in _members(node)
    }
    for node in [
        *render.of_type(gcp_types.CLOUD_FUNCTION),
        *render.of_type(gcp_types.CLOUD_RUN_SERVICE),
    ]:
        for what, email in _acts_as(node):
            if email is None:
                problem = f"{what} as the default compute service account (none is set)"
            elif DEFAULT_ACCOUNT.match(email) and email not in granted:
                problem = f"{what} as the default service account {email}, granted nothing here"
            else:
                continue
            yield _finding(
                f"org:{NO_DEFAULT_SA_GRANTS}",
                node.id,
                f"{problem}: in a secure-by-default organisation it gets no Editor role, "
                "so it has no permissions",
                "set a dedicated service account with the grants it needs "
                f"(infra/agent, infra/artifacts); {_relax_fix(NO_DEFAULT_SA_GRANTS, render.stack)}",
            )


def contact_domains(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """essentialcontacts.allowedContactDomains: contacts only inside the organisation."""
    if CONTACT_DOMAINS not in facts.organization.enforced():
        return
    allowed = set(facts.organization.allowed_domains)
    for contact in render.of_type(gcp_types.ESSENTIAL_CONTACT):
        email = str(contact.inputs.get("email", ""))
        if email.rsplit("@", 1)[-1].lower() in allowed:
            continue
        yield _finding(
            f"org:{CONTACT_DOMAINS}",
            contact.id,
            f"essential contact {email} is outside the organisation's domains "
            f"({', '.join(sorted(allowed)) or 'none listed'})",
            "use an address of the organisation's domain and list that domain in "
            "switchboard:organizationPolicies.allowedDomains; "
            + _relax_fix(CONTACT_DOMAINS, render.stack),
        )


def uniform_bucket_access(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """storage.uniformBucketLevelAccess: every bucket uniform, no ACL resources."""
    if UNIFORM_BUCKET_ACCESS not in facts.organization.enforced():
        return
    for node in render.nodes.values():
        if (
            node.type == gcp_types.STORAGE_BUCKET
            and node.inputs.get("uniformBucketLevelAccess") is not True
        ):
            problem = "bucket without uniform_bucket_level_access: its creation is refused"
            fix = "set uniform_bucket_level_access=True"
        elif node.type in STORAGE_ACL_TYPES:
            problem = "an ACL: refused where uniform bucket-level access is enforced"
            fix = "grant with IAM (BucketIAMMember) instead of ACLs"
        else:
            continue
        yield _finding(
            f"org:{UNIFORM_BUCKET_ACCESS}",
            node.id,
            problem,
            f"{fix}; {_relax_fix(UNIFORM_BUCKET_ACCESS, render.stack)}",
        )


def public_access_prevention(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """storage.publicAccessPrevention: nothing in Cloud Storage is public."""
    if PUBLIC_ACCESS_PREVENTION not in facts.organization.enforced():
        return
    for node in render.nodes.values():
        if not (node.type.startswith(gcp_types.module_prefix("storage")) and _is_iam(node)):
            continue
        for role, member in _members(node):
            if member in PUBLIC_MEMBERS:
                yield _finding(
                    f"org:{PUBLIC_ACCESS_PREVENTION}",
                    node.id,
                    f"makes storage public ({role} to {member}): refused by public access "
                    "prevention (secure-by-default)",
                    "keep buckets private and serve through an agent; "
                    + _relax_fix(PUBLIC_ACCESS_PREVENTION, render.stack),
                )


def invoker_iam_required(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """run.managed.requireInvokerIam (when added): no service skips the invoker check."""
    if REQUIRE_INVOKER_IAM not in facts.organization.enforced():
        return
    for service in render.of_type(gcp_types.CLOUD_RUN_SERVICE):
        if service.inputs.get("invokerIamDisabled") is True:
            yield _finding(
                f"org:{REQUIRE_INVOKER_IAM}",
                service.id,
                "disables the invoker IAM check (a public agent), which "
                f"{REQUIRE_INVOKER_IAM} refuses",
                "ask for an exception for this project, or put the public agent behind a "
                "load balancer with IAP; or remove it from switchboard:organizationPolicies.add",
            )


ORG_RULES: tuple[Rule, ...] = (
    gcf_sources_readable,
    domain_restricted_sharing,
    no_service_account_keys,
    no_default_service_accounts,
    contact_domains,
    uniform_bucket_access,
    public_access_prevention,
    invoker_iam_required,
)
MODELLED_BY_RULE = {
    DOMAIN_RESTRICTED_SHARING: domain_restricted_sharing,
    NO_KEY_CREATION: no_service_account_keys,
    NO_KEY_UPLOAD: no_service_account_keys,
    NO_DEFAULT_SA_GRANTS: no_default_service_accounts,
    CONTACT_DOMAINS: contact_domains,
    UNIFORM_BUCKET_ACCESS: uniform_bucket_access,
    PUBLIC_ACCESS_PREVENTION: public_access_prevention,
    REQUIRE_INVOKER_IAM: invoker_iam_required,
}
"""Every constraint infra/org_policies.py models, and the rule that models it (the tests
check both lists name the same constraints)."""
