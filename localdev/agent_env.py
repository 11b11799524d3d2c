"""The environment an agent runs with on the local platform (docs/agent-contract.md).

The same variables as in the cloud, computed by the same function
(:func:`switchboard_contract.environment.agent_environment`) with local values: the local
project id, ``SWITCHBOARD_ENVIRONMENT=local``, the local settings; then fake secret
values, and the emulator and sandbox addresses the official SDKs read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from switchboard_contract.environment import LOCAL_ENVIRONMENT, Place, secret_env_var
from switchboard_contract.environment import agent_environment as contract_environment

from infra.catalogue import AgentManifest, Catalogue
from infra.catalogue.agent_facts import agent_facts
from localdev.agent_settings import local_agent_settings

SHARED_DIR = "shared"
SANDBOX_VARIABLES = (
    "SANDBOX_STRIPE_API_BASE",
    "SANDBOX_TWILIO_API_BASE",
    "SANDBOX_CALENDAR_API_BASE",
)
DEFAULT_PUBLIC_URL = "http://localhost"
"""A public agent's URL when the caller gives none (tests that never start it)."""
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class LocalEndpoints:
    project: str
    pubsub_address: str
    firestore_address: str
    sandbox_url: str | None
    log_level: str = "INFO"


def python_path(catalogue_root: Path, agent: str) -> str:
    """The agent's folder, then ``functions/shared`` (so ``import switchboard_runtime`` and
    ``import switchboard_contract`` find the shared packages, as at the root of the
    packaged archive)."""
    return os.pathsep.join([str(catalogue_root / agent), str(catalogue_root / SHARED_DIR)])


def agent_environment(
    catalogue: Catalogue,
    agent: AgentManifest,
    endpoints: LocalEndpoints,
    secret_values: Mapping[str, str],
    *,
    threads: int,
    inherited: Mapping[str, str] | None = None,
    public_url: str | None = None,
    settings_values: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every variable for ``agent``'s process: the contract's variables (computed by
    :func:`switchboard_contract.environment.agent_environment`, as the cloud plan does,
    with the local place's values), the secrets' fake values, the emulator and sandbox
    endpoints, and what Python needs.

    A public agent gets ``SWITCHBOARD_PUBLIC_URL`` (``public_url``: where it listens here,
    ``http://localhost`` when not given), as the stack gives it its Cloud Run URL. The
    agent's per-stack settings (``settings:``) come from ``settings_values``, by default
    ``localdev/settings.yaml``."""
    inherited = os.environ if inherited is None else inherited
    env = {key: inherited[key] for key in INHERITED if key in inherited}
    if settings_values is None:
        settings_values = local_agent_settings(catalogue)[agent.name]
    place = Place(
        project=endpoints.project,
        environment=LOCAL_ENVIRONMENT,
        log_level=endpoints.log_level,
        public_url=(public_url or DEFAULT_PUBLIC_URL) if agent.is_public else None,
        settings=settings_values,
    )
    env.update(contract_environment(agent_facts(catalogue, agent.name), place))
    env.update(
        {
            "PUBSUB_EMULATOR_HOST": endpoints.pubsub_address,
            "FIRESTORE_EMULATOR_HOST": endpoints.firestore_address,
            "PYTHONPATH": python_path(catalogue.root, agent.name),
            "PYTHONUNBUFFERED": "1",
            "THREADS": str(threads),
        }
    )
    for secret in agent.secrets:
        env[secret_env_var(secret)] = secret_values[secret]
    if endpoints.sandbox_url:
        for variable in SANDBOX_VARIABLES:
            env[variable] = endpoints.sandbox_url
    return env
