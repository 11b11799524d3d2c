"""A clean second `pulumi up`: every canonical-form rule fires on a real render with one
value written in a form the API returns differently, and the program passes them all."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.tools.conftest import fresh_render
from tools.preflight.__main__ import stack_facts
from tools.preflight.canonical import RULE, RULES, CanonicalRule, values_at
from tools.preflight.graph import Render
from tools.preflight.rules import check
from tools.render.manifest import STACKS


def _set(container: Any, parts: list[str], value: Any) -> None:
    """Write ``value`` at the path, creating what is missing (a list gets one item)."""
    key = parts[0].removesuffix("[]")
    many = parts[0].endswith("[]")
    last = len(parts) == 1
    if key == "*":
        key = next(iter(container), "injected")
    if many:
        items = container.setdefault(key, [])
        if not items:
            items.append({})
        if last:
            items[0] = value
        else:
            _set(items[0], parts[1:], value)
    elif last:
        container[key] = value
    else:
        child = container.get(key)
        if not isinstance(child, dict):
            child = container[key] = {}
        _set(child, parts[1:], value)


def inject(inputs: dict[str, Any], path: str, value: Any) -> None:
    if path.startswith("json:"):
        field, _, rest = path[len("json:") :].partition(".")
        document = json.loads(inputs[field])
        _set(document, rest.split("."), value)
        inputs[field] = json.dumps(document)
    else:
        _set(inputs, path.split("."), value)


def target(rule: CanonicalRule) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A stack and a copy of its render with one resource the rule covers."""
    for stack in STACKS:
        manifest = copy.deepcopy(fresh_render(stack))
        for resource in manifest["resources"]:
            if resource["custom"] and (
                resource["type"] == rule.type
                or (
                    rule.type == "*"
                    and "labels" in resource["inputs"]
                    and "notificationChannel" not in resource["type"]
                )
            ):
                return stack, manifest, resource
    raise AssertionError(f"no render declares a {rule.type}")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.type.rsplit(':', 1)[-1]}.{r.path}")
def test_each_rule_fires_on_a_value_the_api_returns_otherwise(rule: CanonicalRule) -> None:
    stack, manifest, resource = target(rule)
    assert all(rule.ok(v) for _, v in values_at(resource["inputs"], rule.path))
    inject(resource["inputs"], rule.path, rule.bad_example)
    assert not rule.ok(rule.bad_example)
    findings = check(Render.from_manifest(manifest), stack_facts(stack))
    fired = [f for f in findings if f.rule == RULE and f.resource == resource["id"]]
    assert fired, f"{rule.path} = {rule.bad_example!r} passed"
    assert rule.source.split(" ")[0] in fired[0].fix


def test_a_dashboard_tile_at_zero_with_its_position_written_is_caught() -> None:
    """Problem 5 of the first-deploy review, reintroduced: the zero positions written out."""
    manifest = copy.deepcopy(fresh_render("prod"))
    (dashboard,) = [r for r in manifest["resources"] if r["type"].endswith("Dashboard")]
    document = json.loads(dashboard["inputs"]["dashboardJson"])
    for tile in document["mosaicLayout"]["tiles"]:
        tile.setdefault("xPos", 0)
        tile.setdefault("yPos", 0)
    dashboard["inputs"]["dashboardJson"] = json.dumps(document)
    findings = [f for f in check(Render.from_manifest(manifest), stack_facts("prod"))]
    assert {f.rule for f in findings} == {RULE}
    assert any("xPos" in f.problem for f in findings)


@pytest.mark.parametrize("value", ["[unknown]", "[secret]"])
def test_values_the_render_cannot_know_are_not_judged(value: str) -> None:
    (rule,) = [r for r in RULES if r.path == "retryPolicy.minimumBackoff"]
    stack, manifest, resource = target(rule)
    inject(resource["inputs"], rule.path, value)
    findings = check(Render.from_manifest(manifest), stack_facts(stack))
    assert not [f for f in findings if f.rule == RULE]
