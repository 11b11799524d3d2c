"""``switchboard:build:AgentImage``: an agent's archive built into an image, pinned by digest.

A Cloud Run service's ``build_config`` starts no build (it only records how the image was
made), so a ``platform: run`` agent gets this component: a dynamic resource that builds
the SAME content-hashed archive the functions use with Google's buildpacks, pushes it to
the stack's Artifact Registry repository and outputs ``<image_name>@sha256:<digest>``.
It builds again only when the archive's content hash (or the build's runtime, function
target or base image) changes. See docs/image-builds.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi.dynamic

from infra.build.provider import OUTPUTS, ImageBuildProvider
from infra.build.spec import check_plain_inputs, image_name_for

RESOURCE_TYPE = "pulumi-python:dynamic:Resource"
"""Pulumi's one type token for every Python dynamic resource; a build is the one with an
``image_name`` input (its name is ``<agent>-build``)."""


@dataclass(frozen=True)
class AgentImageArgs:
    project: str
    region: str
    agent: str
    repository: str
    """The Artifact Registry repository id (``switchboard-agents``)."""
    content_hash: str
    source_bucket: pulumi.Input[str]
    source_object: pulumi.Input[str]
    runtime: str
    function_target: str
    base_image: str
    service_account: pulumi.Input[str]
    """The build's identity, ``projects/<project>/serviceAccounts/<email>``."""
    enable_automatic_updates: bool = True
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the build: the uploaded archive, the build identity's
    grants and the APIs (a component's ``depends_on`` does not reach its children)."""


class ImageBuild(pulumi.dynamic.Resource):
    """The build itself (type ``pulumi-python:dynamic:Resource``)."""

    image: pulumi.Output[str]
    """``<image_name>@sha256:<digest>``: what the service runs."""
    digest: pulumi.Output[str]
    image_uri: pulumi.Output[str]
    """The tag the build pushed: ``<image_name>:<content hash, 20 digits>``."""
    build_name: pulumi.Output[str]
    log_url: pulumi.Output[str]
    base_image_uri: pulumi.Output[str]
    """The base image to opt in to automatic base image updates with."""

    def __init__(
        self, name: str, props: dict[str, object], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ImageBuildProvider(), name, {**props, **dict.fromkeys(OUTPUTS)}, opts)


class AgentImage(pulumi.ComponentResource):
    """One agent's image. ``build`` is the resource a service must depend on."""

    build: ImageBuild
    image_name: str
    image: pulumi.Output[str]
    image_uri: pulumi.Output[str]
    base_image_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: AgentImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:build:AgentImage", name, None, opts)
        self.image_name = image_name_for(args.region, args.project, args.repository, args.agent)
        check_plain_inputs(
            project=args.project,
            region=args.region,
            image_name=self.image_name,
            content_hash=args.content_hash,
            runtime=args.runtime,
            function_target=args.function_target,
            base_image=args.base_image,
        )
        self.build = ImageBuild(
            f"{args.agent}-build",
            {
                "project": args.project,
                "region": args.region,
                "image_name": self.image_name,
                "content_hash": args.content_hash,
                "source_bucket": args.source_bucket,
                "source_object": args.source_object,
                "runtime": args.runtime,
                "function_target": args.function_target,
                "base_image": args.base_image,
                "enable_automatic_updates": args.enable_automatic_updates,
                "service_account": args.service_account,
                "tags": ["switchboard", f"service_{args.agent}"],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.image = self.build.image
        self.image_uri = self.build.image_uri
        self.base_image_uri = self.build.base_image_uri
        self.register_outputs(
            {"image": self.image, "image_uri": self.image_uri, "log_url": self.build.log_url}
        )
