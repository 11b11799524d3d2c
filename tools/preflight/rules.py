"""The preflight's rules: each takes a render and the stack's facts, returns findings.

Every rule models one way a real first ``pulumi up`` on an empty project fails although
the mocks accepted the program. Each finding names the resource and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infra.iam.propagation import GRANTS, SECONDS
from infra.project.apis import PREENABLED_APIS, RESOURCE_APIS
from library import gcp_types
from tools.preflight.budget import budget_follows_the_estimate
from tools.preflight.canonical import fields_in_canonical_form
from tools.preflight.findings import Finding, Rule, StackFacts
from tools.preflight.graph import Node, Render
from tools.render.normalise import UNKNOWN

__all__ = ["RULES", "Finding", "Rule", "StackFacts", "check"]

BUILD = "pulumi-python:dynamic:Resource"
GRANT_TYPES = frozenset(
    {
        gcp_types.PROJECT_IAM_MEMBER,
        gcp_types.PUBSUB_TOPIC_IAM_MEMBER,
        gcp_types.PUBSUB_SUBSCRIPTION_IAM_MEMBER,
        gcp_types.SECRET_IAM_MEMBER,
        gcp_types.STORAGE_BUCKET_IAM_MEMBER,
        gcp_types.ARTIFACT_REPOSITORY_IAM_MEMBER,
        gcp_types.CLOUD_RUN_SERVICE_IAM_MEMBER,
        gcp_types.SERVICE_ACCOUNT_IAM_MEMBER,
    }
)
DIGEST = re.compile(r"^(?P<name>[^@\s]+)@sha256:[0-9a-f]{64}$")
USER_METRIC = re.compile(r"logging\.googleapis\.com/user/([A-Za-z0-9_.\-/]+)")
PUBSUB_AGENT = re.compile(r"^serviceAccount:service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$")


def _get(value: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return None
        elif not isinstance(value, dict):
            return None
        value = value[key] if isinstance(key, int) else value.get(key)
    return value


# --- 1. images ------------------------------------------------------------------------


def images_are_built_in_the_stack(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """A Cloud Run service runs an image by digest that a build it waits for produced."""
    builds = {n.id: n for n in render.of_type(BUILD) if "image_name" in n.inputs}
    for service in render.of_type(gcp_types.CLOUD_RUN_SERVICE):
        waits = render.waits_for(service.id)
        for container in _get(service.inputs, "template", "containers") or []:
            image = str(container.get("image", ""))
            match = DIGEST.match(image)
            producers = [
                b
                for b in builds.values()
                if b.id in waits
                and (
                    (match and b.inputs.get("image_name") == match.group("name"))
                    or (render.mode == "preview" and image == UNKNOWN)  # the digest, unknown
                )
            ]
            if not producers:
                yield Finding(
                    "image-built-in-stack",
                    service.id,
                    f"runs image {image!r}, which no build in this stack that the service "
                    "waits for produces (build_config on a Cloud Run service starts no build)",
                    "build the image from the agent's archive (infra/build) and pin the "
                    "service to the build's digest output",
                )


# --- 2. secret versions ---------------------------------------------------------------


def _secret_reads(node: Node) -> Iterator[tuple[str, str]]:
    """(secret id, version) for every secret a workload reads."""
    if node.type == gcp_types.CLOUD_FUNCTION:
        for env in _get(node.inputs, "serviceConfig", "secretEnvironmentVariables") or []:
            yield str(env.get("secret")), str(env.get("version"))
    elif node.type == gcp_types.CLOUD_RUN_SERVICE:
        for container in _get(node.inputs, "template", "containers") or []:
            for env in container.get("envs") or []:
                ref = _get(env, "valueSource", "secretKeyRef")
                if ref:
                    yield str(ref.get("secret")), str(ref.get("version"))
            for volume in _get(node.inputs, "template", "volumes") or []:
                secret = volume.get("secret")
                if secret:
                    for item in secret.get("items") or [{"version": "latest"}]:
                        yield str(secret.get("secret")), str(item.get("version", "latest"))


def secret_versions_exist(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """A workload reads a pinned version that the stack creates first, or that the stack
    declares external (and the program checks before declaring anything)."""
    versions = list(render.of_type(gcp_types.SECRET_VERSION))
    for workload in [
        *render.of_type(gcp_types.CLOUD_FUNCTION),
        *render.of_type(gcp_types.CLOUD_RUN_SERVICE),
    ]:
        waits = render.waits_for(workload.id)
        for secret, version in _secret_reads(workload):
            name = secret.rsplit("/", 1)[-1]
            if version == "latest" or not version:
                yield Finding(
                    "secret-version-exists",
                    workload.id,
                    f"reads secret {name} at 'latest': a revision that starts before a "
                    "version exists never becomes ready, and a new value changes it unreviewed",
                    f"give {name} a value source (switchboard:secrets.{name}: config or "
                    "external:<N>) and pin the version",
                )
                continue
            created = [
                v
                for v in versions
                if str(v.inputs.get("secret", "")).rsplit("/", 1)[-1] == name and v.id in waits
            ]
            external = facts.external_secrets.get(name)
            if created or external == version:
                continue
            why = (
                f"pins version {version}, but the stack declares version {external} external"
                if external
                else f"reads version {version}, which no SecretVersion it waits for creates and "
                "the stack does not declare external"
            )
            yield Finding(
                "secret-version-exists",
                workload.id,
                f"secret {name}: {why}",
                f"set switchboard:secrets.{name} (config: Pulumi creates the version and the "
                "workload waits for it; external:<N>: checked before anything is declared)",
            )


# --- 3. APIs --------------------------------------------------------------------------


def resources_wait_for_their_apis(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """Every custom resource waits (transitively) for each API its type needs."""
    services = {
        str(n.inputs.get("service")): n.id for n in render.of_type(gcp_types.PROJECT_SERVICE)
    }
    for node in render.nodes.values():
        if not node.custom:
            continue
        needed = RESOURCE_APIS.get(node.type)
        if needed is None:
            yield Finding(
                "api-enabled-first",
                node.id,
                f"type {node.type} is not in the API table",
                "add it to infra/project/apis.py RESOURCE_APIS with the APIs it needs",
            )
            continue
        if node.type == gcp_types.PROJECT_SERVICE:
            continue
        waits = render.waits_for(node.id)
        for api in sorted(set(needed) - PREENABLED_APIS):
            service = services.get(api)
            if service is None:
                yield Finding(
                    "api-enabled-first",
                    node.id,
                    f"needs {api}, which the stack never enables",
                    "add it to infra/project/services.py REQUIRED_APIS",
                )
            elif service not in waits:
                yield Finding(
                    "api-enabled-first",
                    node.id,
                    f"does not wait for {api} ({service}): on an empty project it is created "
                    "before the API is enabled and fails",
                    "declare it after infra.program registers the API-dependency "
                    "transformation, or depend on the projects.Service",
                )


# --- 4. identities and their grants ---------------------------------------------------


def _identities(node: Node) -> set[str]:
    """Service-account emails a resource acts as (or hands to Google to act as)."""
    found: set[str] = set()

    def email(value: Any) -> None:
        if isinstance(value, str) and value.endswith(".iam.gserviceaccount.com"):
            found.add(value.rsplit("/", 1)[-1])

    if node.type == gcp_types.CLOUD_FUNCTION:
        email(_get(node.inputs, "serviceConfig", "serviceAccountEmail"))
        email(_get(node.inputs, "buildConfig", "serviceAccount"))
    elif node.type == gcp_types.CLOUD_RUN_SERVICE:
        email(_get(node.inputs, "template", "serviceAccount"))
    elif node.type == gcp_types.PUBSUB_SUBSCRIPTION:
        email(_get(node.inputs, "pushConfig", "oidcToken", "serviceAccountEmail"))
    elif node.type == gcp_types.SCHEDULER_JOB:
        email(_get(node.inputs, "httpTarget", "oidcToken", "serviceAccountEmail"))
        email(_get(node.inputs, "httpTarget", "oauthToken", "serviceAccountEmail"))
    elif node.type == BUILD:
        email(node.inputs.get("service_account"))
    return found


def _grant_subject(grant: Node) -> str | None:
    """The email a grant gives to (member), or for a grant ON a service account, whose."""
    member = str(grant.inputs.get("member", ""))
    return member.removeprefix("serviceAccount:") if member.startswith("serviceAccount:") else None


def grants_in_use(render: Render) -> Iterator[tuple[Node, Node]]:
    """(resource, grant) for every grant a resource acts through: a grant to an identity it
    acts as (or hands to Google to act as), a grant on that identity (token creation for
    Pub/Sub), and for a subscription with a dead-letter policy, the Pub/Sub service agent's
    grant on its dead-letter topic. Grants on the resource itself are left out (they come
    after it)."""
    grants = [n for n in render.nodes.values() if n.type in GRANT_TYPES]
    for node in render.nodes.values():
        identities = _identities(node)
        dead_letter = node.type == gcp_types.PUBSUB_SUBSCRIPTION and _get(
            node.inputs, "deadLetterPolicy"
        )
        if not identities and not dead_letter:
            continue
        for grant in grants:
            if node.id in render.waits_for(grant.id):
                continue  # a grant on this very resource (comes after it)
            subject = _grant_subject(grant)
            on_account = str(grant.inputs.get("serviceAccountId", "")).rsplit("/", 1)[-1]
            uses = subject in identities or (
                grant.type == gcp_types.SERVICE_ACCOUNT_IAM_MEMBER and on_account in identities
            )
            if dead_letter and PUBSUB_AGENT.match(str(grant.inputs.get("member", ""))):
                topic = str(_get(node.inputs, "deadLetterPolicy", "deadLetterTopic"))
                uses = uses or topic.rsplit("/", 1)[-1] == str(grant.inputs.get("topic"))
            if uses:
                yield node, grant


def identities_wait_for_their_grants(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """A resource acting as a service account waits for every grant to it (and every grant
    on it, e.g. token creation for Pub/Sub), except grants on the resource itself."""
    for node, grant in grants_in_use(render):
        if grant.id not in render.waits_for(node.id):
            yield Finding(
                "identity-grants-first",
                node.id,
                f"acts through an identity granted by {grant.id} but does not wait for it: "
                "its first run (build, revision, push, dead letter) fails or is lost",
                f"add {grant.id} to its depends_on",
            )


CHECKED_AT_FIRST_USE = frozenset(
    {gcp_types.CLOUD_FUNCTION, gcp_types.CLOUD_RUN_SERVICE, BUILD, gcp_types.PUBSUB_SUBSCRIPTION}
)
"""What GCP checks a grant for the moment it is created or first runs: a revision its
secret access (terraform-provider-google #13786), a build its reads and pushes, a push
subscription its invoker and token grants (a refused push is retried, then dead-lettered).
A Cloud Scheduler job is left out: its first run is at its next schedule, and retried."""


def grants_propagate_before_first_use(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """IAM is eventually consistent (up to about 7 minutes): a resource GCP checks a grant
    for at creation or first use waits for a propagation wait that follows that grant."""
    waits = [n for n in render.of_type(BUILD) if {GRANTS, SECONDS} <= set(n.inputs)]
    for node, grant in grants_in_use(render):
        if node.type not in CHECKED_AT_FIRST_USE or node in waits:
            continue
        before = render.waits_for(node.id)
        if any(w.id in before and grant.id in w.dependencies for w in waits):
            continue
        yield Finding(
            "grant-propagated-first",
            node.id,
            f"acts through {grant.id} as soon as it is created, but waits only for the grant "
            "to exist, not to take effect (IAM propagation takes up to about 7 minutes)",
            "follow the grant with an infra.iam.GrantPropagation and depend on it",
        )


# --- 5. eventual consistency ----------------------------------------------------------


def no_known_race_in_one_step(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """Pairs GCP cannot create in one step. An alert on a log-based metric created in the
    same deploy: the Monitoring API answers 404 for minutes (terraform-provider-google
    #11102), and depends_on does not help."""
    metrics = {
        str(n.inputs.get("name") or n.name): n.id for n in render.of_type(gcp_types.LOG_METRIC)
    }
    for policy in render.of_type(gcp_types.ALERT_POLICY):
        for condition in policy.inputs.get("conditions") or []:
            threshold = condition.get("conditionThreshold") or {}
            text = " ".join(str(threshold.get(k, "")) for k in ("filter", "denominatorFilter"))
            for metric in USER_METRIC.findall(text):
                if metric in metrics:
                    yield Finding(
                        "no-race-in-one-step",
                        policy.id,
                        f"alerts on log-based metric {metric} ({metrics[metric]}), created in "
                        "the same deploy: the Monitoring API does not know it for minutes",
                        "use a log-match condition (condition_matched_log), which needs no metric",
                    )


# --- 6. what the build installs, and where CI keeps state ------------------------------

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^\s;*]+$")


def archives_pin_what_the_tests_ran(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """Each uploaded archive's requirements are exact pins (Cloud Build installs them as
    written: a range resolves to the day's newest release, not the tested one)."""
    for node in render.of_type(gcp_types.STORAGE_BUCKET_OBJECT):
        name = str(node.inputs.get("name", ""))
        if not name.startswith("agents/"):
            continue
        if name not in facts.archive_requirements:
            yield Finding(
                "archive-pins-requirements",
                node.id,
                f"uploads {name}, which is not what functions/ builds now: the render is stale",
                "run `make render` and commit rendered/",
            )
            continue
        loose = [line for line in facts.archive_requirements[name] if not PIN.match(line)]
        if loose:
            yield Finding(
                "archive-pins-requirements",
                node.id,
                f"archive {name} installs unpinned requirements: {', '.join(loose[:5])}",
                "pin them from functions/requirements.lock (infra/packaging; `make lock`)",
            )


def stack_has_a_secrets_provider(render: Render, facts: StackFacts) -> Iterator[Finding]:
    """CI's first `pulumi up` needs the stack's secrets provider (a KMS key the bootstrap
    program creates); without one Pulumi asks for a passphrase nobody has."""
    provider = facts.secrets_provider or ""
    if not provider.startswith("gcpkms://"):
        yield Finding(
            "stack-secrets-provider",
            f"Pulumi.{render.stack}.yaml",
            f"secretsprovider is {provider or 'not set'}: CI cannot decrypt the stack's config",
            "run bootstrap/ and set `secretsprovider: gcpkms://...` (its output) in the stack "
            "file (docs/ci-cd.md)",
        )


RULES: tuple[Rule, ...] = (
    images_are_built_in_the_stack,
    secret_versions_exist,
    resources_wait_for_their_apis,
    identities_wait_for_their_grants,
    grants_propagate_before_first_use,
    fields_in_canonical_form,
    no_known_race_in_one_step,
    archives_pin_what_the_tests_ran,
    stack_has_a_secrets_provider,
    budget_follows_the_estimate,
)


# Rules in modules of their own (they import Finding and StackFacts from here at call time).
from tools.preflight.org_rules import ORG_RULES  # noqa: E402

RULES = (*RULES, *ORG_RULES)


def check(render: Render, facts: StackFacts) -> list[Finding]:
    from tools.preflight.contracts import CONTRACT_RULES  # imports this module

    return [finding for rule in (*RULES, *CONTRACT_RULES) for finding in rule(render, facts)]
