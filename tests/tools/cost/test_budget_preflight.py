"""``make preflight`` warns when a stack's budget and the cost estimate disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.preflight.budget import budget_follows_the_estimate, estimated_total
from tools.preflight.findings import StackFacts
from tools.preflight.graph import Render
from tools.preflight.rules import RULES

REPO = Path(__file__).resolve().parents[3]


def _render(amount: float | None) -> Render:
    manifest = json.loads((REPO / "rendered" / "prod.json").read_text())
    if amount is not None:
        manifest["resources"].append(
            {
                "id": "gcp:billing/budget:Budget::monthly-budget",
                "type": "gcp:billing/budget:Budget",
                "name": "monthly-budget",
                "custom": True,
                "inputs": {
                    "amount": {"specifiedAmount": {"currencyCode": "USD", "units": str(amount)}}
                },
            }
        )
    return Render.from_manifest(manifest)


def test_registered() -> None:
    assert budget_follows_the_estimate in RULES


def test_no_budget_no_finding() -> None:
    assert list(budget_follows_the_estimate(_render(None), StackFacts())) == []


def test_budget_under_the_estimate_is_named_with_both_figures() -> None:
    total = estimated_total(_render(None))
    [finding] = budget_follows_the_estimate(_render(1), StackFacts())
    assert f"${total:,.2f}" in finding.problem
    assert "budget of 1.00" in finding.problem


@pytest.mark.parametrize(("factor", "findings"), [(2, 0), (1000, 1)])
def test_budget_far_above_the_estimate(factor: float, findings: int) -> None:
    total = estimated_total(_render(None))
    found = list(budget_follows_the_estimate(_render(round(total * factor)), StackFacts()))
    assert len(found) == findings
