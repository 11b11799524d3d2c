"""The organisation policy constraints the preflight models, once.

Organisations created on or after 2024-05-03 get Google's secure-by-default bundle
enforced at creation ("Managing secure-by-default organization resources",
https://cloud.google.com/resource-manager/docs/secure-by-default-organizations, and the
announcement https://cloud.google.com/blog/products/identity-security/introducing-stronger-default-org-policies-for-our-customers,
2024-03-20: IAM, Cloud Storage and Essential Contacts constraints). A stack lists what
its organisation does differently in ``switchboard:organizationPolicies``
(:class:`infra.settings.OrganizationPolicySettings`): baseline constraints it
``relax``-es, and further constraints it ``add``-s from :data:`OPTIONAL`. The rules that
model each constraint over a render are in ``tools/preflight/org_rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constraint:
    name: str
    """Without the ``constraints/`` prefix, as ``gcloud org-policies describe`` takes it."""
    title: str
    refuses: str
    """What the constraint refuses, in the terms of the resources this program declares."""


DOMAIN_RESTRICTED_SHARING = "iam.allowedPolicyMemberDomains"
NO_KEY_CREATION = "iam.disableServiceAccountKeyCreation"
NO_KEY_UPLOAD = "iam.disableServiceAccountKeyUpload"
NO_DEFAULT_SA_GRANTS = "iam.automaticIamGrantsForDefaultServiceAccounts"
CONTACT_DOMAINS = "essentialcontacts.allowedContactDomains"
UNIFORM_BUCKET_ACCESS = "storage.uniformBucketLevelAccess"
PUBLIC_ACCESS_PREVENTION = "storage.publicAccessPrevention"
REQUIRE_INVOKER_IAM = "run.managed.requireInvokerIam"

BASELINE: dict[str, Constraint] = {
    c.name: c
    for c in (
        Constraint(
            DOMAIN_RESTRICTED_SHARING,
            "Domain restricted sharing",
            "IAM grants to principals outside the organisation's domains: allUsers and "
            "allAuthenticatedUsers always, user:/group:/domain: outside allowedDomains",
        ),
        Constraint(
            NO_KEY_CREATION,
            "Disable service account key creation",
            "serviceaccount.Key resources (a key Google generates)",
        ),
        Constraint(
            NO_KEY_UPLOAD,
            "Disable service account key upload",
            "serviceaccount.Key resources with public_key_data (an uploaded key)",
        ),
        Constraint(
            NO_DEFAULT_SA_GRANTS,
            "Disable automatic IAM grants for default service accounts",
            "nothing directly: the default compute and App Engine service accounts get no "
            "Editor role, so a function or service that runs or builds as one (no explicit "
            "service account) has no permissions",
        ),
        Constraint(
            CONTACT_DOMAINS,
            "Domain restricted contacts",
            "essentialcontacts.Contact resources with an email outside allowedDomains",
        ),
        Constraint(
            UNIFORM_BUCKET_ACCESS,
            "Enforce uniform bucket-level access",
            "buckets without uniform_bucket_level_access, and object or bucket ACL resources",
        ),
        Constraint(
            PUBLIC_ACCESS_PREVENTION,
            "Enforce public access prevention",
            "public grants (allUsers, allAuthenticatedUsers) on buckets and objects: with "
            "the constraint enforced, every bucket acts as public_access_prevention=enforced",
        ),
    )
}
"""Google's secure-by-default bundle: enforced unless the stack relaxes it."""

OPTIONAL: dict[str, Constraint] = {
    c.name: c
    for c in (
        Constraint(
            REQUIRE_INVOKER_IAM,
            "Require the invoker IAM check on Cloud Run services",
            "Cloud Run services with invoker_iam_disabled (then no agent can be public "
            "without an exception for its project)",
        ),
    )
}
"""Not in the bundle, but refusing something this program declares when an organisation
adds it (``switchboard:organizationPolicies.add``)."""

MODELLED: dict[str, Constraint] = {**BASELINE, **OPTIONAL}
