"""The cloud plan and the local platform give every agent the same environment, except
the values of where it runs: both compute it with the contract's one function."""

from __future__ import annotations

import pytest
from switchboard_contract import environment as contract

from infra.agent.plan import plan_agent
from infra.catalogue import load_catalogue
from localdev.agent_env import SANDBOX_VARIABLES, LocalEndpoints, agent_environment
from localdev.fake_secrets import fake_secrets
from tests.infra.test_settings import settings_for

ENDPOINTS = LocalEndpoints("switchboard-local", "127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:3")
LOCAL_ONLY = {
    "PUBSUB_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "THREADS",
    *SANDBOX_VARIABLES,
}
"""What only the local platform sets: the emulators', the sandbox's and Python's."""
PLACE_VARIABLES = {
    contract.GOOGLE_CLOUD_PROJECT,
    contract.ENVIRONMENT,
    contract.LOG_LEVEL,
    contract.PUBLIC_URL,
}
"""Contract variables whose values are the place's (the other values must be equal)."""


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_agent_gets_the_same_environment_in_the_cloud_and_locally(stack: str) -> None:
    catalogue = load_catalogue()
    secrets = fake_secrets(list(catalogue.secrets))
    assert catalogue.agents
    for name, manifest in catalogue.agents.items():
        cloud = plan_agent(catalogue, settings_for(stack), name)
        local = agent_environment(
            catalogue, manifest, ENDPOINTS, secrets, threads=4, inherited={}, public_url="x"
        )
        local_secrets = {contract.secret_env_var(s) for s in manifest.secrets}
        assert set(cloud.secret_env) == local_secrets, name
        local_contract = {
            key: value
            for key, value in local.items()
            if key not in LOCAL_ONLY and key not in local_secrets
        }
        assert set(local_contract) == set(cloud.env), name
        place = PLACE_VARIABLES | set(manifest.settings)
        assert {k: v for k, v in local_contract.items() if k not in place} == {
            k: v for k, v in cloud.env.items() if k not in place
        }, name
        assert local_contract[contract.ENVIRONMENT] == contract.LOCAL_ENVIRONMENT
        assert local_contract[contract.GOOGLE_CLOUD_PROJECT] == ENDPOINTS.project
