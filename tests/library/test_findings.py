"""One finding type: preflight's rules and the verifier's checks return the same records."""

from __future__ import annotations

from library.findings import Finding
from tools.preflight.findings import Finding as PreflightFinding
from tools.verify import Finding as VerifyFinding
from tools.verify.checks import Report, line, result


def test_the_engines_share_the_type() -> None:
    assert PreflightFinding is Finding and VerifyFinding is Finding


def test_a_check_result_keeps_the_verifiers_lines() -> None:
    report = Report(
        [
            result("topic exists", "bookings", True),
            result("topic exists", "payments", False, "missing"),
            result("compute ready", "*", True, "not checked (--no-compute)", True),
        ]
    )
    assert [line(f) for f in report.findings] == [
        "ok   topic exists           bookings",
        "FAIL topic exists           payments: missing",
        "skip compute ready          *: not checked (--no-compute)",
    ]
    assert [f.status for f in report.findings] == ["ok", "fail", "skip"]
    assert report.failures == [report.findings[1]] and not report.ok
    assert report.text().endswith("FAIL: 1 ok, 1 failed, 1 skipped\n")
