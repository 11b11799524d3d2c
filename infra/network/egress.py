"""A VPC the agents' outbound traffic goes through, leaving from one static address.

Why: third parties (Stripe, Twilio) can allowlist the address. Shape: one custom-mode
network and subnet (Private Google Access on, so Google APIs stay on Google's network),
Direct VPC egress from every agent with ``ALL_TRAFFIC`` (functions 2nd gen support it as
well as Cloud Run, so no Serverless VPC Access connector), Cloud NAT on a reserved
external address, and firewall rules that allow only TCP 443 out and deny everything else
(allow at priority 1000 wins over deny at 65000: lower number, higher priority).
Ingress is unaffected: agents stay internal unless declared public.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.settings import NetworkSettings

NETWORK_NAME = "switchboard-agents"
ALLOW_PRIORITY = 1000
DENY_PRIORITY = 65000
ANYWHERE = "0.0.0.0/0"
FLOW_LOGS = {
    "aggregation_interval": "INTERVAL_5_SEC",
    "flow_sampling": 0.5,
    "metadata": "INCLUDE_ALL_METADATA",
}
"""VPC flow logs where the stack asks (``network.flowLogs``): egress allows 443 to anywhere,
so the logs are how anyone can tell which agent talked to which address. The provider's
defaults, written out (compute Subnetwork log_config, pulumi-gcp 10.2.0)."""


@dataclass(frozen=True)
class VpcEgress:
    """What a workload needs to send its egress into the VPC."""

    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]


@dataclass(frozen=True)
class AgentEgressArgs:
    project: str
    region: str
    settings: NetworkSettings
    protect: bool = False
    """Prod: the NAT address is protected (partners allowlist it; a new one breaks them)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = ()


class AgentEgress(pulumi.ComponentResource):
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    address: gcp.compute.Address
    egress: VpcEgress

    def __init__(
        self, name: str, args: AgentEgressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("switchboard:network:AgentEgress", name, None, opts)
        deps = list(args.depends_on)
        child = pulumi.ResourceOptions(parent=self, depends_on=deps)
        self.network = gcp.compute.Network(
            "agents-vpc",
            project=args.project,
            name=NETWORK_NAME,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description="Switchboard agents' egress (Direct VPC egress, Cloud NAT)",
            opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            "agents-subnet",
            project=args.project,
            name=f"{NETWORK_NAME}-{args.region}",
            region=args.region,
            network=self.network.id,
            ip_cidr_range=args.settings.subnet_cidr,
            private_ip_google_access=True,
            log_config=FLOW_LOGS if args.settings.flow_logs else None,
            opts=child,
        )
        self.address = gcp.compute.Address(
            "nat-address",
            project=args.project,
            name=f"{NETWORK_NAME}-nat",
            region=args.region,
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            description="Static egress address of the Switchboard agents (partner allowlists)",
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=deps),
        )
        router = gcp.compute.Router(
            "nat-router",
            project=args.project,
            name=f"{NETWORK_NAME}-router",
            region=args.region,
            network=self.network.id,
            opts=child,
        )
        gcp.compute.RouterNat(
            "nat",
            project=args.project,
            name=f"{NETWORK_NAME}-nat",
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=[self.address.self_link],
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[{"name": self.subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        gcp.compute.Firewall(
            "allow-https-egress",
            project=args.project,
            name=f"{NETWORK_NAME}-allow-https-egress",
            network=self.network.id,
            direction="EGRESS",
            priority=ALLOW_PRIORITY,
            destination_ranges=[ANYWHERE],
            allows=[{"protocol": "tcp", "ports": ["443"]}],
            description="Agents call HTTPS APIs only (Google, Stripe, Twilio).",
            opts=pulumi.ResourceOptions(parent=self),
        )
        gcp.compute.Firewall(
            "deny-all-egress",
            project=args.project,
            name=f"{NETWORK_NAME}-deny-all-egress",
            network=self.network.id,
            direction="EGRESS",
            priority=DENY_PRIORITY,
            destination_ranges=[ANYWHERE],
            denies=[{"protocol": "all"}],
            description="Everything not allowed above is denied.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Same-project short names, as Cloud Run's network interface documents them.
        self.egress = VpcEgress(network=self.network.name, subnetwork=self.subnet.name)
        self.register_outputs(
            {"network": self.network.id, "subnet": self.subnet.id, "nat_ip": self.address.address}
        )
