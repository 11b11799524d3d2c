"""The model on the real catalogue and committed renders: the filters evaluated on the
attributes a real publish carries, ticks from the cron expression, the JSON output."""

from __future__ import annotations

import json

import pytest

from infra.catalogue.loader import load_catalogue
from tools.cost.__main__ import main
from tools.cost.calibration import load_calibration
from tools.cost.propagation import Stream, propagate
from tools.cost.schedules import fires_per_month
from tools.cost.traffic import load_traffic, traffic_path


def test_cron_fires_per_month() -> None:
    assert fires_per_month("*/15 * * * *") == pytest.approx(96 * 365 / 12)
    assert fires_per_month("0 3 * * *") == pytest.approx(365 / 12)
    assert fires_per_month("0 9 * * MON") == pytest.approx(52 / 12)  # 2025 has 52 Mondays


def test_filters_route_each_event_type_to_its_agents() -> None:
    catalogue = load_catalogue()
    traffic = load_traffic(traffic_path("prod")).model_copy(
        update={"origin_events_per_day": {"booking.requested": 10.0}, "failure_rate": {}}
    )
    flow = propagate(catalogue, traffic, load_calibration())
    by_sub = {s.subscription_id: s for s in flow.subscriptions}
    assert by_sub["scheduler-on-bookings"].matched_by_type["booking.requested"] > 0
    assert "booking.requested" not in by_sub["billing-on-bookings"].matched_by_type
    assert by_sub["ledger-on-bookings"].matched_by_type["booking.requested"] > 0
    ticks = by_sub["reminders-on-ticks"]
    assert ticks.matched == pytest.approx(fires_per_month("*/15 * * * *"))


def test_a_redriven_message_reaches_only_its_target() -> None:
    catalogue = load_catalogue()
    consumer = catalogue.consumer("ledger-on-bookings")
    from infra.catalogue.catalogue import effective_filter
    from infra.catalogue.filter_language import parse_filter

    deployed = parse_filter(effective_filter("ledger", consumer.spec))
    plain = Stream("booking.requested", "gateway").attributes()
    assert "redrive_target" not in plain
    assert deployed.matches(plain)
    assert not deployed.matches({**plain, "redrive_target": "scheduler-on-bookings"})


def test_json_has_totals_line_items_and_deliveries_with_and_without_filter(capsys) -> None:
    assert main(["--stack", "prod", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["total"] > 0
    assert document["total"] == pytest.approx(
        sum(item["cost"] for item in document["line_items"]), abs=0.01
    )
    for item in document["line_items"]:
        assert {"quantity", "unit_price", "unit", "price_source"} <= item.keys()
    subs = {(s["agent"], s["topic"]): s for s in document["subscriptions"]}
    billing = subs[("billing", "bookings")]
    assert billing["deliveries_per_month"] < billing["deliveries_per_month_without_filter"]
    assert document["month_12"]["total"] >= document["total"]
    services = {item["service"] for item in document["line_items"]}
    assert {"Cloud Run", "Cloud Run functions", "Pub/Sub", "Firestore", "Cloud NAT"} <= services


def test_free_tier_lowers_the_bill(capsys) -> None:
    assert main(["--stack", "dev", "--json"]) == 0
    full = json.loads(capsys.readouterr().out)["total"]
    assert main(["--stack", "dev", "--json", "--free-tier"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] < full


def test_a_bad_traffic_profile_is_named(tmp_path, capsys) -> None:
    bad = tmp_path / "prod.yaml"
    bad.write_text(
        "format: switchboard-traffic/1\nstack: prod\n"
        "origin_events_per_day:\n  booking.requested: -1\n"
    )
    assert main(["--stack", "prod", "--traffic", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "origin_events_per_day.booking.requested" in err
