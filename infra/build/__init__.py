"""Agent images for Cloud Run: the archive built with Google's buildpacks, pinned by digest."""

from infra.build.image import RESOURCE_TYPE, AgentImage, AgentImageArgs, ImageBuild

__all__ = ["RESOURCE_TYPE", "AgentImage", "AgentImageArgs", "ImageBuild"]
