"""Switchboard's policies as pure functions: no pulumi_policy, nothing heavy.

The CrossGuard pack (``policy/__main__.py`` via ``policy/pack.py``) wraps them for
``pulumi preview --policy-pack policy``; the main test suite and
``python -m policy.switchboard_policies`` run the very same functions over the offline
render (``rendered/<stack>.json``).
"""

from .model import Context, Finding, Resource, Violation
from .registry import POLICIES, Policy, run_policies

__all__ = ["POLICIES", "Context", "Finding", "Policy", "Resource", "Violation", "run_policies"]
