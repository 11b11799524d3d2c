"""Opt-in VPC egress: off in dev and staging, on in prod, and what it declares."""

from __future__ import annotations

import pytest

from infra.offline.harness import run_stack
from infra.offline.mocks import Registration
from tests.infra.test_program import rendered
from tests.infra.test_settings import expect_error

FUNCTION = "gcp:cloudfunctionsv2/function:Function"
SERVICE = "gcp:cloudrunv2/service:Service"


def compute(stack: str) -> list[Registration]:
    return [r for r in rendered(stack).registrations if r.type.startswith("gcp:compute/")]


def test_dev_and_staging_have_no_vpc_and_agents_no_egress_settings() -> None:
    for stack in ("dev", "staging"):
        assert compute(stack) == []
        for fn in rendered(stack).of_type(FUNCTION):
            assert "directVpcNetworkInterfaces" not in fn.inputs["serviceConfig"]
        for service in rendered(stack).of_type(SERVICE):
            assert "vpcAccess" not in service.inputs["template"]
        services = {
            r.inputs["service"] for r in rendered(stack).of_type("gcp:projects/service:Service")
        }
        assert "compute.googleapis.com" not in services


def test_prod_routes_every_agent_through_the_vpc() -> None:
    run = rendered("prod")
    for fn in run.of_type(FUNCTION):
        config = fn.inputs["serviceConfig"]
        assert config["directVpcEgress"] == "VPC_EGRESS_ALL_TRAFFIC", fn.name
        assert config["directVpcNetworkInterfaces"] == [
            {"network": "switchboard-agents", "subnetwork": "switchboard-agents-europe-west1"}
        ]
        assert config["ingressSettings"] == "ALLOW_INTERNAL_ONLY"
    (gateway,) = run.of_type(SERVICE)
    assert gateway.inputs["template"]["vpcAccess"] == {
        "networkInterfaces": [
            {"network": "switchboard-agents", "subnetwork": "switchboard-agents-europe-west1"}
        ],
        "egress": "ALL_TRAFFIC",
    }
    services = {r.inputs["service"] for r in run.of_type("gcp:projects/service:Service")}
    assert "compute.googleapis.com" in services


def test_prod_network_subnet_nat_and_static_address() -> None:
    found = {r.name: r for r in compute("prod")}
    assert found["agents-vpc"].inputs["autoCreateSubnetworks"] is False
    subnet = found["agents-subnet"].inputs
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["ipCidrRange"] == "10.8.0.0/24"
    # egress allows 443 anywhere: prod keeps flow logs of it (network.flowLogs)
    assert subnet["logConfig"] == {
        "aggregationInterval": "INTERVAL_5_SEC",
        "flowSampling": 0.5,
        "metadata": "INCLUDE_ALL_METADATA",
    }
    address = found["nat-address"]
    assert address.inputs["addressType"] == "EXTERNAL"
    assert address.protect  # partners allowlist it
    nat = found["nat"].inputs
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat["natIps"] == [address.outputs["selfLink"]]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"] == [
        {
            "name": "projects/switchboard-prod-000000/regions/europe-west1/subnetworks/"
            "switchboard-agents-europe-west1",
            "sourceIpRangesToNats": ["ALL_IP_RANGES"],
        }
    ]


def test_firewall_allows_only_https_out_and_denies_the_rest_after_it() -> None:
    rules = {r.name: r.inputs for r in compute("prod") if r.type == "gcp:compute/firewall:Firewall"}
    assert set(rules) == {"allow-https-egress", "deny-all-egress"}
    allow, deny = rules["allow-https-egress"], rules["deny-all-egress"]
    assert allow["direction"] == deny["direction"] == "EGRESS"
    assert allow["allows"] == [{"protocol": "tcp", "ports": ["443"]}]
    assert deny["denies"] == [{"protocol": "all"}]
    assert allow["destinationRanges"] == deny["destinationRanges"] == ["0.0.0.0/0"]
    assert allow["priority"] < deny["priority"]  # lower number wins


@pytest.mark.slow
def test_a_stack_can_opt_in() -> None:
    run = run_stack("staging", overrides={"switchboard:network": {"egressViaVpc": True}})
    assert run.named("nat-address").protect is False  # staging is not protected
    assert "logConfig" not in run.named("agents-subnet").inputs  # flow logs: opt-in
    assert len(run.of_type("gcp:compute/firewall:Firewall")) == 2


@pytest.mark.parametrize("cidr", ["10.8.0.0/27", "10.8.0.0", "not-a-cidr"])
def test_bad_subnet_names_the_key(cidr: str) -> None:
    expect_error(
        "prod",
        "switchboard:network.subnetCidr",
        "should match pattern",
        **{"switchboard:network": {"egressViaVpc": True, "subnetCidr": cidr}},
    )
