"""The one result type of the rule engines: what one rule found about one resource.

Preflight's rules (``tools/preflight``, the reachability check, the policy violations it
relays) yield failures with a fix; the post-deploy verifier (``tools/verify``) records every
check, passed and skipped ones too, so a finding carries a status. The policy pack's pure
rules keep their own ``Violation`` (the CrossGuard venv cannot import this package); preflight
turns those into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["fail", "ok", "skip"]


@dataclass(frozen=True)
class Finding:
    rule: str
    """The rule or check that produced it (``push-auth``, ``topic exists``)."""
    resource: str
    """What it is about: a resource id, a name, a file."""
    problem: str = ""
    """What is wrong; for a passed or skipped check, the note it carries (may be empty)."""
    fix: str = ""
    """What to do about it (preflight's findings always say)."""
    status: Status = "fail"

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def skipped(self) -> bool:
        return self.status == "skip"
