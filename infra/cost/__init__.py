"""Cost guards that are resources: an optional billing budget and log retention.

The others are plan rules: max instances capped per stack (``instances.maxCap``), min
instances 0 outside prod (``instances.keepWarm``, checked in settings), CPU allocated only
during requests (Cloud Run ``cpu_idle``; a 2nd-gen function is request-billed already).
"""

from infra.cost.guards import CostGuards, CostGuardsArgs

__all__ = ["CostGuards", "CostGuardsArgs"]
