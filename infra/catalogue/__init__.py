"""The agent catalogue: ``functions/catalogue.yaml`` plus one ``agent.yaml`` per agent.

It drives the Pulumi program, the local platform, the offline render, the topology
picture and the policy checks. Load it with :func:`load_catalogue`.
"""

from infra.catalogue.catalogue import Catalogue, Consumer, effective_filter
from infra.catalogue.errors import CatalogueError, Problem
from infra.catalogue.loader import FUNCTIONS_DIR, load_catalogue
from infra.catalogue.model import (
    AgentManifest,
    ScheduleSpec,
    SecretSpec,
    SubscriptionSpec,
    TopicSpec,
)

__all__ = [
    "FUNCTIONS_DIR",
    "AgentManifest",
    "Catalogue",
    "CatalogueError",
    "Consumer",
    "Problem",
    "ScheduleSpec",
    "SecretSpec",
    "SubscriptionSpec",
    "TopicSpec",
    "effective_filter",
    "load_catalogue",
]
