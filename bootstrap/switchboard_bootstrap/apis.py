"""The Google APIs the bootstrap's resources (and the CI identities it creates) use."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

OPS_APIS: tuple[str, ...] = (
    "cloudkms.googleapis.com",  # the secrets key ring and keys
    "cloudresourcemanager.googleapis.com",  # project IAM members for the previewer
    "iam.googleapis.com",  # the identity pool and provider, the previewer account
    "iamcredentials.googleapis.com",  # CI mints the previewer's access tokens here
    "storage.googleapis.com",  # the state bucket
    "sts.googleapis.com",  # CI exchanges its GitHub OIDC token here
)
STACK_PROJECT_APIS: tuple[str, ...] = (
    "cloudresourcemanager.googleapis.com",  # the deployer's project IAM members
    "iam.googleapis.com",  # the deployer account
    "iamcredentials.googleapis.com",  # CI mints the deployer's access tokens here
)
# serviceusage.googleapis.com is not declared: it is what enables the others, is on in
# every new project, and a resource cannot enable the API it is made with.


@dataclass(frozen=True)
class ProjectApisArgs:
    project: str
    apis: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.apis:
            raise ValueError(f"{self.project}: no APIs to enable")
        if len(set(self.apis)) != len(self.apis):
            raise ValueError(f"{self.project}: an API is listed twice")


class ProjectApis(pulumi.ComponentResource):
    """Enables APIs in one project; never disabled on destroy (other things use them)."""

    apis: dict[str, gcp.projects.Service]

    def __init__(
        self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:bootstrap:ProjectApis", name, None, opts)
        self.apis = {
            api: gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in args.apis
        }
        self.register_outputs({"apis": {api: s.service for api, s in self.apis.items()}})

    def __getitem__(self, api: str) -> gcp.projects.Service:
        return self.apis[api]
