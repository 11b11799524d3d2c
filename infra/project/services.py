"""The Google APIs a stack needs, and the Pub/Sub service agent's identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

REQUIRED_APIS: tuple[str, ...] = (
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
)


@dataclass(frozen=True)
class ProjectServicesArgs:
    project: str
    apis: tuple[str, ...] = REQUIRED_APIS


class ProjectServices(pulumi.ComponentResource):
    """Enables the stack's APIs (never disabled on destroy: other things may use them)
    and materialises the Pub/Sub service agent, which push auth and dead-lettering need."""

    pubsub_service_agent: pulumi.Output[str]
    """``serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com``"""

    def __init__(
        self, name: str, args: ProjectServicesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:project:ProjectServices", name, None, opts)
        self.apis: dict[str, gcp.projects.Service] = {}
        for api in args.apis:
            self.apis[api] = gcp.projects.Service(
                api.split(".")[0],
                project=args.project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
        identity = gcp.projects.ServiceIdentity(
            "pubsub-service-agent",
            project=args.project,
            service="pubsub.googleapis.com",
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.apis["pubsub.googleapis.com"]]
            ),
        )
        self.pubsub_service_agent = identity.email.apply(lambda email: f"serviceAccount:{email}")
        self.register_outputs({"pubsub_service_agent": self.pubsub_service_agent})

    @property
    def all(self) -> list[pulumi.Resource]:
        return list(self.apis.values())
