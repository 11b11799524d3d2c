"""The story's picture: lanes, bars, marks, arrows and cut gaps, from a story's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.catalogue import FUNCTIONS_DIR, Catalogue, load_catalogue
from localdev.console.story_picture import GAP_KEPT_MS, story_picture

T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(FUNCTIONS_DIR)


def at(ms: float) -> str:
    return (T0 + dt.timedelta(milliseconds=ms)).isoformat()


def published(ms: float, event: str, source: str, cause: str = "") -> dict[str, Any]:
    item = {
        "event_id": event,
        "type": "t",
        "topic": "bookings",
        "causation_id": cause,
        "attributes": {"source": source},
    }
    return {"kind": "published", "at": at(ms), "item": item}


def delivery(
    end: float, agent: str, event: str, latency: float | None, outcome: str = "acked"
) -> dict[str, Any]:
    item = {"agent": agent, "event_id": event, "event_type": "t", "outcome": outcome}
    item["latency_ms"] = latency
    return {"kind": "delivery", "at": at(end), "item": item}


def document(ms: float, path: str) -> dict[str, Any]:
    collection, name = path.split("/")
    return {
        "kind": "document",
        "at": at(ms),
        "item": {"collection": collection, "id": name, "path": path},
    }


def call(ms: float, service: str) -> dict[str, Any]:
    item = {"service": service, "method": "POST", "path": "/x", "status": 200}
    return {"kind": "call", "at": at(ms), "item": item}


def picture(catalogue: Catalogue, timeline: list[dict[str, Any]], causes: dict[str, str]) -> dict:
    timeline = sorted(timeline, key=lambda e: e["at"])
    events = [{"event_id": e, "causation_id": c} for e, c in causes.items()]
    return story_picture({"timeline": timeline, "events": events}, catalogue)


BOOKING = [
    published(0, "req", "gateway"),
    delivery(100, "billing", "req", None, "filtered out"),
    delivery(1000, "scheduler", "req", 990),
    delivery(600, "ledger", "req", 580),
    call(500, "calendar"),
    published(900, "conf", "scheduler", "req"),
    document(950, "processed_events/scheduler:req"),
    delivery(1300, "ledger", "conf", 380),
    delivery(1500, "billing", "conf", 580),
    call(1200, "stripe"),  # while ledger and billing both run: billing holds Stripe's key
    document(1250, "ledger/conf"),
    document(1250, "processed_events/ledger:conf"),
    document(1400, "payments/pi_1"),  # billing's, the only Firestore delivery running
]
CAUSES = {"req": "", "conf": "req"}


def test_a_bar_per_push_on_its_agents_lane_spanning_its_latency(catalogue: Catalogue) -> None:
    drawn = picture(catalogue, BOOKING, CAUSES)
    bars = {(b["lane"], b["event_id"]): b for b in drawn["bars"]}
    assert set(bars) == {
        ("scheduler", "req"),
        ("ledger", "req"),
        ("ledger", "conf"),
        ("billing", "conf"),
    }  # the filtered-out delivery never reached billing: no bar
    assert (bars["scheduler", "req"]["x0"], bars["scheduler", "req"]["x1"]) == (10, 1000)
    assert bars["billing", "conf"]["latency_ms"] == 580
    lanes = [lane["name"] for lane in drawn["lanes"]]
    assert lanes == ["gateway", "scheduler", "ledger", "billing"]  # by first activity
    assert drawn["lanes"][0]["kind"] == "agent"


def test_overlapping_deliveries_of_one_agent_take_rows_of_their_own(
    catalogue: Catalogue,
) -> None:
    timeline = [
        published(0, "a", "gateway"),
        published(0, "b", "gateway"),
        delivery(500, "ledger", "a", 490),
        delivery(600, "ledger", "b", 300),
        delivery(900, "ledger", "c", 200),
    ]
    drawn = picture(catalogue, timeline, {"a": "", "b": "", "c": ""})
    rows = {b["event_id"]: b["row"] for b in drawn["bars"]}
    assert rows == {"a": 0, "b": 1, "c": 0}
    assert next(lane for lane in drawn["lanes"] if lane["name"] == "ledger")["rows"] == 2


def test_arrows_go_from_the_delivery_that_published_a_follow_up_to_its_deliveries(
    catalogue: Catalogue,
) -> None:
    drawn = picture(catalogue, BOOKING, CAUSES)
    bar = {b["id"]: (b["lane"], b["event_id"]) for b in drawn["bars"]}
    arrows = {(a["kind"], bar.get(a["from"], a["from"]), bar[a["to"]]) for a in drawn["arrows"]}
    publish_mark = next(m["id"] for m in drawn["marks"] if m["event_id"] == "req")
    assert arrows == {
        ("publish", publish_mark, ("scheduler", "req")),
        ("publish", publish_mark, ("ledger", "req")),
        ("follow-up", ("scheduler", "req"), ("ledger", "conf")),
        ("follow-up", ("scheduler", "req"), ("billing", "conf")),
    }
    follow_up = next(a for a in drawn["arrows"] if a["kind"] == "follow-up")
    assert follow_up["at"] == 900  # leaves the scheduler's bar when it published


def test_a_follow_up_arrow_leaves_its_cause_even_when_the_clocks_disagree(
    catalogue: Catalogue,
) -> None:
    """The emulator stamps the follow-up's publish a little after the delivery loop saw
    the causing push end (a loaded machine): the arrow still starts on the causing bar."""
    late = [e for e in BOOKING if e["item"].get("event_id") != "conf" or e["kind"] != "published"]
    late.append(published(1004, "conf", "scheduler", "req"))
    late = [e for e in late if e["kind"] != "delivery" or e["item"]["event_id"] != "conf"]
    late += [delivery(1300, "ledger", "conf", 280), delivery(1500, "billing", "conf", 480)]
    drawn = picture(catalogue, late, CAUSES)
    bars = {b["id"]: b for b in drawn["bars"]}
    follow_ups = [a for a in drawn["arrows"] if a["kind"] == "follow-up"]
    assert len(follow_ups) == 2
    for arrow in follow_ups:
        cause = bars[arrow["from"]]
        assert (cause["lane"], cause["event_id"]) == ("scheduler", "req")
        assert arrow["at"] == 1000  # the end of the scheduler's push, not 1004


def test_a_retry_gets_one_arrow_and_a_bar_per_attempt(catalogue: Catalogue) -> None:
    timeline = [
        published(0, "req", "gateway"),
        delivery(200, "scheduler", "req", 150, "retry"),
        delivery(1400, "scheduler", "req", 300),
    ]
    drawn = picture(catalogue, timeline, {"req": ""})
    assert [b["outcome"] for b in drawn["bars"]] == ["retry", "acked"]
    assert len(drawn["arrows"]) == 1


def test_marks_go_on_the_lane_of_the_agent_that_made_them(catalogue: Catalogue) -> None:
    drawn = picture(catalogue, BOOKING, CAUSES)
    marks = {(m["kind"], m["label"]): m["lane"] for m in drawn["marks"]}
    assert marks[("call", "calendar POST /x -> 200")] == "scheduler"
    assert marks[("call", "stripe POST /x -> 200")] == "billing"
    assert marks[("document", "Firestore processed_events/scheduler:req")] == "scheduler"
    assert marks[("document", "Firestore ledger/conf")] == "ledger"  # with ledger's claim
    assert marks[("document", "Firestore payments/pi_1")] == "billing"
    assert marks[("published", "t published on bookings")] in {"gateway", "scheduler"}


def test_a_long_idle_stretch_is_cut_and_says_how_long(catalogue: Catalogue) -> None:
    timeline = [
        published(0, "req", "gateway"),
        delivery(100, "scheduler", "req", 90),
        published(60_100, "tick", "cloud-scheduler"),
        delivery(60_300, "reminders", "tick", 150),
    ]
    drawn = picture(catalogue, timeline, {"req": "", "tick": ""})
    assert drawn["span"] == pytest.approx(100 + GAP_KEPT_MS + 200)
    assert [round(g["hidden_ms"]) for g in drawn["gaps"]] == [60_000 - GAP_KEPT_MS]
    tick = next(b for b in drawn["bars"] if b["event_id"] == "tick")
    assert tick["x1"] - tick["x0"] == pytest.approx(150)  # widths are kept
    assert next(lane for lane in drawn["lanes"] if lane["name"] == "cloud-scheduler")["kind"] == (
        "outside"
    )
    assert drawn["ticks"][-1]["label"].startswith("+60")


def test_an_empty_story_draws_nothing(catalogue: Catalogue) -> None:
    drawn = picture(catalogue, [], {})
    assert (drawn["lanes"], drawn["bars"], drawn["arrows"], drawn["origin"]) == ([], [], [], None)


def test_a_dead_letter_is_marked_on_the_lane_of_its_subscriptions_agent(
    catalogue: Catalogue,
) -> None:
    letter = {
        "source_subscription": "scheduler-on-bookings",
        "event_id": "req",
        "reason": "permanent failure: bad data",
    }
    timeline = [
        published(0, "req", "gateway"),
        delivery(300, "scheduler", "req", 250, "retry"),
        delivery(900, "scheduler", "req", 200, "dead-lettered"),
        {"kind": "dead-letter", "at": at(950), "item": letter},
    ]
    drawn = picture(catalogue, timeline, {"req": ""})
    mark = next(m for m in drawn["marks"] if m["kind"] == "dead-letter")
    assert (mark["lane"], mark["label"]) == (
        "scheduler",
        "dead letter: permanent failure: bad data",
    )
    assert [b["outcome"] for b in drawn["bars"]] == ["retry", "dead-lettered"]
