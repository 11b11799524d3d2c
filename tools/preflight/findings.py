"""What every preflight rule takes and returns: the stack's facts and its findings
(:class:`library.findings.Finding`, each with a fix)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from infra.settings import OrganizationPolicySettings
from library.findings import Finding
from tools.preflight.graph import Render

__all__ = ["Finding", "Rule", "StackFacts"]


@dataclass(frozen=True)
class StackFacts:
    """What the preflight knows of the stack besides its render (from Pulumi.<stack>.yaml)."""

    external_secrets: Mapping[str, str] = field(default_factory=dict)
    """secret name -> the pinned version the stack says exists out of band."""
    secrets_provider: str | None = None
    archive_requirements: Mapping[str, list[str]] = field(default_factory=dict)
    """archive object name -> the requirement lines of the archive the repository builds."""
    organization: OrganizationPolicySettings = field(default_factory=OrganizationPolicySettings)
    """``switchboard:organizationPolicies``: what the stack's organisation enforces."""


Rule = Callable[[Render, StackFacts], Iterator[Finding]]
