"""Results of verification: one finding per check (:class:`library.findings.Finding`, with
its status), a report that says pass or fail."""

from __future__ import annotations

from dataclasses import dataclass, field

from library.findings import Finding, Status


def result(
    check: str, resource: str, ok: bool, message: str = "", skipped: bool = False
) -> Finding:
    """The finding of one check: passed (``ok``), failed (the message says why) or skipped."""
    status: Status = "skip" if skipped else ("ok" if ok else "fail")
    return Finding(check, resource, message, status=status)


def line(finding: Finding) -> str:
    status = {"skip": "skip", "ok": "ok  ", "fail": "FAIL"}[finding.status]
    detail = f": {finding.problem}" if finding.problem else ""
    return f"{status} {finding.rule:<22} {finding.resource}{detail}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.failed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [line(f) for f in self.findings]
        passed = sum(f.status == "ok" for f in self.findings)
        skipped = sum(f.skipped for f in self.findings)
        lines.append(
            f"{'PASS' if self.ok else 'FAIL'}: {passed} ok, {len(self.failures)} failed, "
            f"{skipped} skipped"
        )
        return "\n".join(lines) + "\n"
