"""Nothing is silently free: every type the committed renders declare is priced or listed
as free with a reason, every unit price names its public source, and a type the table
lacks stops ``python -m tools.cost`` with the type named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.cost.__main__ import main
from tools.cost.prices import PRICES_FILE, load_prices
from tools.cost.render_facts import read_render
from tools.render.manifest import STACKS

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_type_is_priced_or_free_with_a_reason(stack: str) -> None:
    facts = read_render(json.loads((REPO / "rendered" / f"{stack}.json").read_text()))
    assert facts.custom_types, "the render declares no custom resources"
    assert load_prices().unpriced_types(facts.custom_types) == []


def test_every_unit_price_has_a_public_source_and_a_date() -> None:
    prices = load_prices()
    for unit in prices.units.values():
        assert unit.source.startswith("https://cloud.google.com/"), unit.key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", unit.read_on), unit.key
    assert all(reason.strip() for reason in prices.free.values())


def test_an_unpriced_type_stops_the_command_naming_it(tmp_path: Path, capsys) -> None:
    render = json.loads((REPO / "rendered" / "dev.json").read_text())
    render["resources"].append(
        {"type": "gcp:redis/instance:Instance", "name": "cache", "custom": True, "inputs": {}}
    )
    (tmp_path / "dev.json").write_text(json.dumps(render))
    assert main(["--stack", "dev", "--rendered", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "gcp:redis/instance:Instance" in err
    assert "Traceback" not in err


def test_a_type_removed_from_the_table_is_caught(tmp_path: Path, capsys) -> None:
    text = PRICES_FILE.read_text()
    assert "  gcp:cloudscheduler/job:Job: [scheduler.job]\n" in text
    table = tmp_path / "prices.yaml"
    table.write_text(text.replace("  gcp:cloudscheduler/job:Job: [scheduler.job]\n", ""))
    assert main(["--stack", "prod", "--prices", str(table)]) == 2
    assert "gcp:cloudscheduler/job:Job" in capsys.readouterr().err
