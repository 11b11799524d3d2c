"""The environment an agent runs with, and the one function that computes it.

The cloud plan (``infra/agent/plan.py``) and the local platform (``localdev/agent_env.py``)
both call :func:`agent_environment` with the same :class:`AgentFacts` (derived from the
catalogue) and a :class:`Place` (where the agent runs: project, environment name, log
level, public URL, setting values). So the two environments have the same variables by
construction, and differ only in the values of the place. What the local platform adds
for its emulators and sandbox (``*_EMULATOR_HOST``, ``SANDBOX_*``, ``PYTHONPATH``) is not
part of the contract; secrets are given by name (:func:`secret_env_var`) by each side:
Secret Manager references in the cloud, fake values locally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

GOOGLE_CLOUD_PROJECT = "GOOGLE_CLOUD_PROJECT"
AGENT = "SWITCHBOARD_AGENT"
ENVIRONMENT = "SWITCHBOARD_ENVIRONMENT"
TIMEOUT_SECONDS = "SWITCHBOARD_TIMEOUT_SECONDS"
DEAD_LETTERS = "SWITCHBOARD_DEAD_LETTERS"
"""JSON object: each subscription id of the agent -> its dead-letter topic id."""
FIRESTORE_DATABASE = "SWITCHBOARD_FIRESTORE_DATABASE"
PUBLIC_URL = "SWITCHBOARD_PUBLIC_URL"
"""A public agent's own URL (it checks webhook signatures against it)."""
LOG_LEVEL = "LOG_LEVEL"
TOPIC_PREFIX = "SWITCHBOARD_TOPIC_"

DEFAULT_FIRESTORE_DATABASE = "(default)"
"""Firestore's name for a project's default database."""
LOCAL_ENVIRONMENT = "local"
"""``SWITCHBOARD_ENVIRONMENT`` on the local platform."""


def topic_env_var(topic: str) -> str:
    """``bookings`` -> ``SWITCHBOARD_TOPIC_BOOKINGS``: holds the topic id to publish to."""
    return f"{TOPIC_PREFIX}{re.sub(r'[^A-Z0-9]', '_', topic.upper())}"


def secret_env_var(secret: str) -> str:
    """``stripe-api-key`` -> ``STRIPE_API_KEY``: the variable the secret's value is in."""
    return re.sub(r"[^A-Z0-9]", "_", secret.upper())


@dataclass(frozen=True)
class AgentFacts:
    """What the catalogue says about an agent, the same wherever it runs."""

    agent: str
    timeout_seconds: int
    firestore: bool
    public: bool
    publishes: tuple[str, ...] = ()
    dead_letters: Mapping[str, str] = field(default_factory=dict)
    """Each subscription id of the agent -> its dead-letter topic id (empty: no consumer)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The manifest's plain settings (``env:``)."""
    settings: tuple[str, ...] = ()
    """The per-stack settings the manifest declares (``settings:``); values per place."""


@dataclass(frozen=True)
class Place:
    """Where an agent runs: the values that differ between the cloud and the local platform."""

    project: str
    environment: str
    log_level: str
    public_url: str | None = None
    """A public agent's URL there (required for a public agent)."""
    settings: Mapping[str, str] = field(default_factory=dict)
    """The place's values of per-stack settings (a stack's, or ``localdev/settings.yaml``)."""


class ContractError(ValueError):
    """The place lacks a value the agent needs (its public URL, a declared setting)."""


def agent_environment(facts: AgentFacts, place: Place) -> dict[str, str]:
    """Every contract variable of ``facts.agent`` at ``place``, sorted by name.

    Raises :class:`ContractError` when a public agent has no public URL or a declared
    setting has no value (callers check these first, with their own file names)."""
    env = {
        GOOGLE_CLOUD_PROJECT: place.project,
        AGENT: facts.agent,
        ENVIRONMENT: place.environment,
        TIMEOUT_SECONDS: str(facts.timeout_seconds),
        LOG_LEVEL: place.log_level,
    }
    if facts.firestore:
        env[FIRESTORE_DATABASE] = DEFAULT_FIRESTORE_DATABASE
    for topic in facts.publishes:
        env[topic_env_var(topic)] = topic
    if facts.dead_letters:
        env[DEAD_LETTERS] = json.dumps(dict(facts.dead_letters), sort_keys=True)
    if facts.public:
        if not place.public_url:
            raise ContractError(f"{facts.agent}: a public agent needs its public URL")
        env[PUBLIC_URL] = place.public_url
    clashes = sorted(set(env) & set(facts.env))
    if clashes:
        raise ContractError(f"{facts.agent}: env may not set {', '.join(clashes)}")
    env.update(facts.env)
    missing = [name for name in facts.settings if name not in place.settings]
    if missing:
        raise ContractError(f"{facts.agent}: no value for the settings {missing}")
    env.update({name: str(place.settings[name]) for name in facts.settings})
    return dict(sorted(env.items()))
