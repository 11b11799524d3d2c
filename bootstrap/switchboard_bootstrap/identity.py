"""Workload Identity Federation for this repository's GitHub Actions workflows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
ATTRIBUTE_MAPPING: dict[str, str] = {
    # GitHub's `sub` is `repo:OWNER/REPO:environment:NAME` for a job with an environment
    # and `repo:OWNER/REPO:pull_request` for a pull_request job: one claim that names both
    # the repository and the environment, so IAM bindings can use it alone.
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.ref": "assertion.ref",
    "attribute.event_name": "assertion.event_name",
    "attribute.actor": "assertion.actor",
}


@dataclass(frozen=True)
class GitHubFederationArgs:
    project: str
    pool_id: str
    provider_id: str
    repository: str
    environments: Sequence[str]
    """The GitHub environments whose jobs deploy (one per stack)."""
    deploy_branch: str
    repository_id: str | None
    allow_pull_requests: bool
    iam_api: pulumi.Resource

    def __post_init__(self) -> None:
        if "/" not in self.repository or "'" in self.repository:
            raise ValueError(f"repository {self.repository!r} is not OWNER/REPO")
        if not self.environments:
            raise ValueError("federation: no GitHub environments")
        for value in (*self.environments, self.deploy_branch):
            if "'" in value or "\\" in value:
                raise ValueError(f"{value!r}: quotes and backslashes cannot appear in CEL here")


def environment_subject(repository: str, environment: str) -> str:
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def attribute_condition(args: GitHubFederationArgs) -> str:
    """Only this repository's tokens; from deploy jobs (one of the stacks' environments,
    on the deploy branch) or, where previews are allowed, from pull_request jobs."""
    subjects = ", ".join(
        f"'{environment_subject(args.repository, e)}'" for e in sorted(args.environments)
    )
    deploy = (
        f"(assertion.sub in [{subjects}] && assertion.ref == 'refs/heads/{args.deploy_branch}')"
    )
    jobs = deploy
    if args.allow_pull_requests:
        jobs = f"({deploy} || assertion.sub == '{pull_request_subject(args.repository)}')"
    pins = [f"assertion.repository == '{args.repository}'"]
    if args.repository_id:
        pins.append(f"assertion.repository_id == '{args.repository_id}'")
    return " && ".join([*pins, jobs])


class GitHubFederation(pulumi.ComponentResource):
    """A pool with one OIDC provider for GitHub Actions, admitting only this repository's
    deploy and preview jobs (:func:`attribute_condition`). Protected: a deleted pool id
    stays reserved for 30 days."""

    pool: gcp.iam.WorkloadIdentityPool
    provider: gcp.iam.WorkloadIdentityPoolProvider
    provider_name: pulumi.Output[str]
    """``projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>``:
    the ``GCP_WIF_PROVIDER`` variable."""

    def __init__(
        self, name: str, args: GitHubFederationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:GitHubFederation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=[args.iam_api], protect=True)
        self._repository = args.repository
        self.pool = gcp.iam.WorkloadIdentityPool(
            "github",
            project=args.project,
            workload_identity_pool_id=args.pool_id,
            display_name="GitHub Actions",
            description=f"GitHub Actions workflows of {args.repository}"[:256],
            opts=child,
        )
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            "github",
            project=args.project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=args.provider_id,
            display_name="GitHub OIDC",
            attribute_mapping=ATTRIBUTE_MAPPING,
            attribute_condition=attribute_condition(args),
            oidc={"issuer_uri": GITHUB_ISSUER},
            opts=child,
        )
        self.provider_name = self.provider.name
        self.register_outputs({"provider_name": self.provider_name})

    def principal(self, subject: str) -> pulumi.Output[str]:
        """The IAM member for tokens whose ``sub`` is ``subject``."""
        return self.pool.name.apply(
            lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}"
        )

    def environment_principal(self, environment: str) -> pulumi.Output[str]:
        return self.principal(environment_subject(self._repository, environment))

    def pull_request_principal(self) -> pulumi.Output[str]:
        return self.principal(pull_request_subject(self._repository))
