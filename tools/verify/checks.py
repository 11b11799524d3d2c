"""Results of verification: one finding per check, a report that says pass or fail."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    ok: bool
    message: str = ""
    skipped: bool = False

    def line(self) -> str:
        status = "skip" if self.skipped else ("ok  " if self.ok else "FAIL")
        detail = f": {self.message}" if self.message else ""
        return f"{status} {self.check:<22} {self.resource}{detail}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and not f.skipped]

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [f.line() for f in self.findings]
        passed = sum(f.ok and not f.skipped for f in self.findings)
        skipped = sum(f.skipped for f in self.findings)
        lines.append(
            f"{'PASS' if self.ok else 'FAIL'}: {passed} ok, {len(self.failures)} failed, "
            f"{skipped} skipped"
        )
        return "\n".join(lines) + "\n"
