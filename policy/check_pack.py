"""Prove the CrossGuard adapter in the pack's own venv (run by ``check.sh``):

1. every pure policy is wrapped exactly once, by name, as the right CrossGuard kind;
2. the wrappers report what the pure rules find (a bad resource, a bad stack);
3. ``__main__.py`` constructs the ``PolicyPack`` and serves it (it prints its port), then
   is stopped by its PID.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pack import build_policies
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from switchboard_policies import POLICIES

HERE = Path(__file__).resolve().parent
PUBLIC_INVOKER = {
    "name": "gateway",
    "role": "roles/run.invoker",
    "member": "allUsers",
    "project": "p",
    "location": "europe-west1",
}


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def check_wrapping() -> dict[str, object]:
    wrapped = {p.name: p for p in build_policies()}
    expected = [p.name for p in POLICIES]
    assert list(wrapped) == expected, (list(wrapped), expected)
    for pure in POLICIES:
        kind = ResourceValidationPolicy if pure.kind == "resource" else StackValidationPolicy
        assert isinstance(wrapped[pure.name], kind), pure.name
    return wrapped


def check_reports(wrapped: dict[str, object]) -> None:
    reported: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
        PUBLIC_INVOKER,
        "urn:pulumi:dev::switchboard::x::gateway-public",
        "gateway-public",
        _options(),
        None,
        {"publicAgents": ["gateway"]},
    )
    # allUsers is refused even on the agent declared public (Domain Restricted Sharing).
    wrapped["no-public-members"].validate(args, lambda m, u=None: reported.append((m, u)))  # type: ignore[attr-defined]
    assert reported and "gateway" in reported[0][0], reported

    unchecked: list[tuple[str, str | None]] = []
    for name in ("gateway", "ledger"):
        service = ResourceValidationArgs(
            "gcp:cloudrunv2/service:Service",
            {"name": name, "invokerIamDisabled": True},
            f"urn:pulumi:dev::switchboard::gcp:cloudrunv2/service:Service::{name}",
            name,
            _options(),
            None,
            {"publicAgents": ["gateway"]},
        )
        wrapped["invoker-check-only-on-public-agents"].validate(  # type: ignore[attr-defined]
            service, lambda m, u=None: unchecked.append((m, u))
        )
    assert len(unchecked) == 1 and "ledger" in unchecked[0][0], unchecked

    def function(name: str) -> PolicyResource:
        props = {
            "name": name,
            "serviceConfig": {"serviceAccountEmail": "shared@p.iam.gserviceaccount.com"},
        }
        urn = f"urn:pulumi:dev::switchboard::gcp:cloudfunctionsv2/function:Function::{name}"
        fn = "gcp:cloudfunctionsv2/function:Function"
        return PolicyResource(fn, props, urn, name, _options(), None, None, [], {})

    stack_reports: list[tuple[str, str | None]] = []
    stack_args = StackValidationArgs([function("a"), function("b")], {})
    wrapped["one-service-account-per-agent"].validate(  # type: ignore[attr-defined]
        stack_args, lambda m, u=None: stack_reports.append((m, u))
    )
    assert len(stack_reports) == 2 and all(
        u and u.endswith(("::a", "::b")) for _, u in stack_reports
    )


def check_pack_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().strip()
        if not port.isdigit():
            error = process.stderr.read().decode() if process.poll() is not None else ""  # type: ignore[union-attr]
            raise AssertionError(f"PolicyPack did not start: {port!r} {error}")
        print(f"PolicyPack 'switchboard' served {len(POLICIES)} policies on port {port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    policies = check_wrapping()
    check_reports(policies)
    check_pack_serves()
    print(f"ok: {len(POLICIES)} pure policies wrapped: {', '.join(p.name for p in POLICIES)}")
