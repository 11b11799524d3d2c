"""An agent's :class:`~switchboard_contract.environment.AgentFacts`, from the catalogue.

The one bridge from a manifest to the contract's environment function: the cloud plan
(``infra/agent/plan.py``) and the local platform (``localdev/agent_env.py``) both build
their agent's environment from these facts, so they cannot disagree about its variables.
"""

from __future__ import annotations

from switchboard_contract.environment import AgentFacts

from infra.catalogue.catalogue import Catalogue


def agent_facts(catalogue: Catalogue, name: str) -> AgentFacts:
    """What the catalogue says about ``name`` that its environment depends on."""
    manifest = catalogue.agent(name)
    consumers = [c for c in catalogue.consumers() if c.agent.name == name]
    return AgentFacts(
        agent=name,
        timeout_seconds=manifest.timeout_seconds,
        firestore=manifest.firestore,
        public=manifest.is_public,
        publishes=tuple(manifest.publishes),
        dead_letters={c.subscription_id: c.dead_letter_topic_id for c in consumers},
        env=dict(manifest.env),
        settings=tuple(manifest.settings),
    )
