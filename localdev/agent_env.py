"""The environment an agent runs with on the local platform (docs/agent-contract.md).

The same variables as in the cloud, with local values: the local project id,
``SWITCHBOARD_ENVIRONMENT=local``, fake secret values, and the emulator and sandbox
addresses the official SDKs read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.catalogue import AgentManifest, Catalogue, naming
from localdev.agent_settings import local_agent_settings

SHARED_DIR = "shared"
FIRESTORE_DATABASE = "(default)"
SANDBOX_VARIABLES = (
    "SANDBOX_STRIPE_API_BASE",
    "SANDBOX_TWILIO_API_BASE",
    "SANDBOX_CALENDAR_API_BASE",
)
PUBLIC_URL_ENV = "SWITCHBOARD_PUBLIC_URL"
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class LocalEndpoints:
    project: str
    pubsub_address: str
    firestore_address: str
    sandbox_url: str | None
    log_level: str = "INFO"


def python_path(catalogue_root: Path, agent: str) -> str:
    """The agent's folder, then ``functions/shared`` (so ``import switchboard_runtime`` finds
    the shared runtime, as at the root of the packaged archive)."""
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
    """Every variable for ``agent``'s process: contract variables plus what Python needs.

    A public agent gets ``SWITCHBOARD_PUBLIC_URL`` (``public_url``: where it listens here),
    as the stack gives it its Cloud Run URL. The agent's per-stack settings (``settings:``)
    come from ``settings_values``, by default ``localdev/settings.yaml``."""
    inherited = os.environ if inherited is None else inherited
    env = {key: inherited[key] for key in INHERITED if key in inherited}
    env.update(agent.env)
    if settings_values is None:
        settings_values = local_agent_settings(catalogue)[agent.name]
    env.update({name: settings_values[name] for name in agent.settings})
    dead_letters = {
        naming.subscription_id(agent.name, spec.topic): naming.dead_letter_topic_id(
            agent.name, spec.topic
        )
        for spec in agent.subscriptions
    }
    env.update(
        {
            "GOOGLE_CLOUD_PROJECT": endpoints.project,
            "SWITCHBOARD_AGENT": agent.name,
            "SWITCHBOARD_ENVIRONMENT": "local",
            "SWITCHBOARD_TIMEOUT_SECONDS": str(agent.timeout_seconds),
            "SWITCHBOARD_DEAD_LETTERS": json.dumps(dead_letters, sort_keys=True),
            "LOG_LEVEL": endpoints.log_level,
            "PUBSUB_EMULATOR_HOST": endpoints.pubsub_address,
            "FIRESTORE_EMULATOR_HOST": endpoints.firestore_address,
            "PYTHONPATH": python_path(catalogue.root, agent.name),
            "PYTHONUNBUFFERED": "1",
            "THREADS": str(threads),
        }
    )
    if agent.firestore:
        env["SWITCHBOARD_FIRESTORE_DATABASE"] = FIRESTORE_DATABASE
    if agent.is_public and public_url:
        env[PUBLIC_URL_ENV] = public_url
    for topic in agent.publishes:
        env[naming.topic_env_var(topic)] = topic
    for secret in agent.secrets:
        env[naming.secret_env_var(secret)] = secret_values[secret]
    if endpoints.sandbox_url:
        for variable in SANDBOX_VARIABLES:
            env[variable] = endpoints.sandbox_url
    return env
