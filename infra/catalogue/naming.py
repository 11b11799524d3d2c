"""The GCP names derived from the catalogue, in one place.

The Pulumi components, the local platform, the dead-letter tool and the post-deploy
verifier all derive names here, so they can never disagree about what a subscription or
a dead-letter topic is called.
"""

from __future__ import annotations

from switchboard_contract.attributes import REDRIVE_TARGET
from switchboard_contract.environment import (  # noqa: F401 (re-exported for naming.*)
    secret_env_var,
    topic_env_var,
)

from library.deadletters.attributes import DEAD_LETTER_SUFFIX

AGENT_NAME_PATTERN = r"[a-z][a-z0-9-]{1,20}[a-z0-9]"
"""Agent names: 3-22 characters, so that ``sb-<agent>-push`` fits a 30-character
service-account id (GCP: 6-30 of ``[a-z0-9-]``, starting with a letter)."""

SERVICE_ACCOUNT_ID_PATTERN = r"[a-z]([-a-z0-9]{4,28})[a-z0-9]"


def service_account_id(agent: str) -> str:
    """The identity the agent's code runs as."""
    return f"sb-{agent}"


def invoker_account_id(agent: str) -> str:
    """The identity Pub/Sub presents (OIDC token) when it pushes to the agent."""
    return f"sb-{agent}-push"


def subscription_id(agent: str, topic: str) -> str:
    return f"{agent}-on-{topic}"


def dead_letter_topic_id(agent: str, topic: str) -> str:
    return f"{subscription_id(agent, topic)}{DEAD_LETTER_SUFFIX}"


def dead_letter_subscription_id(agent: str, topic: str) -> str:
    """Pull subscription on the dead-letter topic (topics and subscriptions are separate
    namespaces, so it shares the topic's id)."""
    return dead_letter_topic_id(agent, topic)


def scheduler_job_id(agent: str) -> str:
    return f"{agent}-tick"


def redrive_clause(agent: str, topic: str) -> str:
    """The filter clause every agent subscription carries (see :data:`REDRIVE_TARGET`)."""
    target = subscription_id(agent, topic)
    return f'NOT attributes:{REDRIVE_TARGET} OR attributes.{REDRIVE_TARGET} = "{target}"'
