"""Opt-in agent egress through a VPC with a static NAT address (``switchboard:network``)."""

from infra.network.egress import AgentEgress, AgentEgressArgs, VpcEgress

__all__ = ["AgentEgress", "AgentEgressArgs", "VpcEgress"]
