"""The compute an agent runs on: a Cloud Functions 2nd-gen HTTP function, or a Cloud Run
v2 service running the image built from the same archive (``platform: run``, built by
:class:`infra.build.AgentImage`; Cloud Functions builds its own).

Both are HTTP endpoints fed by our own push subscriptions (no Eventarc trigger: its
managed subscription can carry neither a filter nor a dead-letter policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.agent.plan import AgentPlan
from infra.build import AgentImage
from infra.network.egress import VpcEgress
from infra.secrets.store import SecretRef

FUNCTION_INGRESS = {True: "ALLOW_ALL", False: "ALLOW_INTERNAL_ONLY"}
RUN_INGRESS = {True: "INGRESS_TRAFFIC_ALL", False: "INGRESS_TRAFFIC_INTERNAL_ONLY"}
BASE_IMAGES = {
    "python311": "{region}-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python311",
    "python312": "{region}-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python312",
    "python313": "{region}-docker.pkg.dev/serverless-runtimes/google-22-full/runtimes/python313",
}


@dataclass(frozen=True)
class WorkloadInputs:
    """What the workload needs besides the plan: where its code and identities are."""

    project: str
    region: str
    plan: AgentPlan
    source_bucket: pulumi.Input[str]
    source_object: pulumi.Input[str]
    service_account_email: pulumi.Input[str]
    builder_name: pulumi.Input[str]
    repository_id: pulumi.Input[str]
    """The Artifact Registry repository's full id (projects/.../repositories/...)."""
    secrets: dict[str, SecretRef]
    """secret name -> its id and the version the workload pins (never ``latest``)."""
    labels: dict[str, str]
    deletion_protection: bool
    egress: VpcEgress | None = None
    """Opt-in: all outbound traffic through this VPC (Direct VPC egress), else none."""
    image: AgentImage | None = None
    """The built image a Cloud Run service runs (required for ``platform: run``)."""


@dataclass(frozen=True)
class Workload:
    resource: pulumi.CustomResource
    service_name: pulumi.Output[str]
    """The Cloud Run service that serves requests (for a 2nd-gen function: its service)."""
    uri: pulumi.Output[str]


def declare_function(
    inputs: WorkloadInputs, parent: pulumi.Resource, depends_on: list[pulumi.Resource]
) -> Workload:
    plan = inputs.plan
    if plan.public:  # the catalogue refuses it (infra/catalogue/rules.py check_ingress)
        raise ValueError(f"agent {plan.name}: a public agent must be platform: run")
    function = gcp.cloudfunctionsv2.Function(
        plan.name,
        project=inputs.project,
        location=inputs.region,
        name=plan.name,
        description=f"Switchboard agent {plan.name}",
        labels=inputs.labels,
        build_config={
            "runtime": plan.runtime,
            "entry_point": plan.entry_point,
            "service_account": inputs.builder_name,
            "docker_repository": inputs.repository_id,
            "source": {
                "storage_source": {
                    "bucket": inputs.source_bucket,
                    "object": inputs.source_object,
                }
            },
        },
        service_config={
            "available_memory": plan.memory,
            "available_cpu": plan.cpu,
            "timeout_seconds": plan.timeout_seconds,
            "max_instance_request_concurrency": plan.concurrency,
            "min_instance_count": plan.min_instances,
            "max_instance_count": plan.max_instances,
            "ingress_settings": FUNCTION_INGRESS[plan.public],
            "all_traffic_on_latest_revision": True,
            "service_account_email": inputs.service_account_email,
            # CPU is only allocated while a request is served: that is how 2nd-gen
            # functions are billed (no setting to make); Cloud Run services set cpu_idle.
            **_function_egress(inputs.egress),
            "environment_variables": plan.env,
            "secret_environment_variables": [
                {
                    "key": env_name,
                    "project_id": inputs.project,
                    "secret": inputs.secrets[secret].secret_id,
                    "version": _pinned(inputs.secrets[secret]),
                }
                for env_name, secret in plan.secret_env.items()
            ],
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )
    return Workload(
        resource=function,
        service_name=function.name,
        uri=function.service_config.apply(lambda config: getattr(config, "uri", None) or ""),
    )


def declare_service(
    inputs: WorkloadInputs, parent: pulumi.Resource, depends_on: list[pulumi.Resource]
) -> Workload:
    plan = inputs.plan
    built = inputs.image
    if built is None:
        raise ValueError(f"agent {plan.name}: a Cloud Run service needs its built image")
    envs: list[dict[str, object]] = [
        {"name": key, "value": value} for key, value in plan.env.items()
    ]
    envs += [
        {
            "name": env_name,
            "value_source": {
                "secret_key_ref": {
                    "secret": inputs.secrets[secret].secret_id,
                    "version": _pinned(inputs.secrets[secret]),
                }
            },
        }
        for env_name, secret in plan.secret_env.items()
    ]
    service = gcp.cloudrunv2.Service(
        plan.name,
        project=inputs.project,
        location=inputs.region,
        name=plan.name,
        description=f"Switchboard agent {plan.name}",
        labels=inputs.labels,
        ingress=RUN_INGRESS[plan.public],
        deletion_protection=inputs.deletion_protection,
        # Public agents only: callers need no Google identity, and no allUsers grant (which
        # Domain Restricted Sharing refuses) is made. run.routes.invoke is not checked.
        invoker_iam_disabled=plan.invoker_iam_disabled,
        # Metadata only (it starts no build): how the running image was made, as
        # `gcloud run deploy --source` records it. The build is `built.build`.
        build_config={
            "source_location": pulumi.Output.concat(
                "gs://", inputs.source_bucket, "/", inputs.source_object
            ),
            "function_target": plan.entry_point,
            "image_uri": built.image_uri,
            "base_image": built.base_image_uri,
            "enable_automatic_updates": True,
            "service_account": inputs.builder_name,
        },
        template={
            "service_account": inputs.service_account_email,
            "timeout": f"{plan.timeout_seconds}s",
            "max_instance_request_concurrency": plan.concurrency,
            "scaling": {
                "min_instance_count": plan.min_instances,
                "max_instance_count": plan.max_instances,
            },
            **_service_egress(inputs.egress),
            "containers": [
                {
                    # pinned by digest: a revision runs exactly what was built
                    "image": built.image,
                    "base_image_uri": built.base_image_uri,
                    "resources": {
                        "limits": {"memory": plan.memory, "cpu": plan.cpu or "1"},
                        "cpu_idle": True,
                        "startup_cpu_boost": True,
                    },
                    "envs": envs,
                }
            ],
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, built.build]),
    )
    return Workload(resource=service, service_name=service.name, uri=service.uri)


def _pinned(secret: SecretRef) -> pulumi.Input[str]:
    """The version a revision reads: pinned, so a new value is a new, reviewed revision."""
    if secret.version is None:  # settings validation makes every read secret have a source
        raise ValueError(f"secret {secret.name} is read but has no value source")
    return secret.version


def _function_egress(egress: VpcEgress | None) -> dict[str, object]:
    if egress is None:
        return {}
    return {
        "direct_vpc_network_interfaces": [
            {"network": egress.network, "subnetwork": egress.subnetwork}
        ],
        "direct_vpc_egress": "VPC_EGRESS_ALL_TRAFFIC",
    }


def _service_egress(egress: VpcEgress | None) -> dict[str, object]:
    if egress is None:
        return {}
    return {
        "vpc_access": {
            "network_interfaces": [{"network": egress.network, "subnetwork": egress.subnetwork}],
            "egress": "ALL_TRAFFIC",
        }
    }


def declare_workload(
    inputs: WorkloadInputs, parent: pulumi.Resource, depends_on: list[pulumi.Resource]
) -> Workload:
    if inputs.plan.platform == "run":
        return declare_service(inputs, parent, depends_on)
    return declare_function(inputs, parent, depends_on)
