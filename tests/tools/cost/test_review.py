"""``make diff``'s cost part: before/after per stack, the lines and deliveries that moved."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tools.cost.review import cost_section, stack_section

REPO = Path(__file__).resolve().parents[3]


def _prod() -> dict:
    return json.loads((REPO / "rendered" / "prod.json").read_text())


def test_an_unchanged_stack_moves_nothing() -> None:
    render = _prod()
    [line] = stack_section("prod", render, render)
    assert "(+0.00)" in line


def test_a_dropped_filter_and_a_warm_agent_show_in_review() -> None:
    base, head = _prod(), copy.deepcopy(_prod())
    for resource in head["resources"]:
        if resource["name"] == "billing-on-bookings" and "filter" in resource["inputs"]:
            resource["inputs"]["filter"] = ""
        if (
            resource["type"] == "gcp:cloudfunctionsv2/function:Function"
            and resource["name"] == "notifier"
        ):
            resource["inputs"]["serviceConfig"]["minInstanceCount"] = 1
    lines = stack_section("prod", base, head)
    assert lines[0].startswith("  prod: $") and "(+" in lines[0]
    assert any("idle" in line and "[notifier]" in line for line in lines)
    assert any(line.strip().startswith("deliveries billing-on-bookings") for line in lines)


def test_section_names_a_stack_without_a_render() -> None:
    text = cost_section([("dev", {"resources": []}, _prod())])
    assert "dev: no cost comparison" in text
