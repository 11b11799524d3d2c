"""The console in a real browser against the real fleet on the local platform.

Headless Chromium loads the console served by ``python -m localdev up``, watches the
booking scenario's counts change, follows the booking's story to its SMS, dead-letters a
poison message and redrives it to the scheduler only, publishes a booking from the form
that a third-party failure dead-letters, redrives it and sees it processed. Checks the
booking's story drawn as a picture against the trace. Takes the README's screenshots:
into the test's temporary folder, or over docs/console.png and docs/console-story.png
with ``SWITCHBOARD_UPDATE_SCREENSHOT=1`` (so a test run leaves the committed tree as it
was).
A second test holds one answer back to show that a view keeps its latest choice's answer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from localdev.processes import sandbox_available
from localdev.trace import read_trace
from tests.conftest import require_emulators
from tests.localdev.console.browser import chromium_page, require_browser
from tests.localdev.console.picture_check import READ_PICTURE, expected, inside
from tests.localdev.harness import REPO, wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(600)]
SCREENSHOT = REPO / "docs" / "console.png"
STORY_SCREENSHOT = REPO / "docs" / "console-story.png"
WAIT_MS = 120_000
PLATFORM = [sys.executable, "-m", "localdev", "up"]
COUNT_AT_LEAST = """([s, k, n]) => {
    const row = document.querySelector(`#counts tr[data-subscription="${s}"]`);
    const cell = row && row.querySelector(`td[data-count="${k}"]`);
    return cell && Number(cell.textContent) >= n;
}"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_emulators()
    require_browser()
    if not sandbox_available(REPO):
        pytest.skip("the sandbox package is not in this tree")
    root = tmp_path_factory.mktemp("console")
    state_dir = root / ".local"
    output_path = root / "platform-output.txt"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [*PLATFORM, "--state-dir", str(state_dir), "--base-port", "0"],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: (state_dir / "platform.json").is_file() or process.poll() is not None,
            120,
            "the fleet to be ready",
        )
        assert process.poll() is None, output_path.read_text()
        state = json.loads((state_dir / "platform.json").read_text())
        assert state["console"]["url"] in output_path.read_text()  # the banner names it
        yield {"state": state, "state_dir": state_dir, "root": root}
    finally:
        process.terminate()
        process.wait(60)


def scenario(fleet: dict[str, Any], name: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "localdev",
            "scenario",
            name,
            "--state-dir",
            str(fleet["state_dir"]),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def count(page: Any, subscription: str, kind: str) -> int:
    cell = page.locator(f'#counts tr[data-subscription="{subscription}"] td[data-count="{kind}"]')
    return int(cell.inner_text())


def wait_count(page: Any, subscription: str, kind: str, at_least: int) -> None:
    page.wait_for_function(
        COUNT_AT_LEAST,
        arg=[subscription, kind, at_least],
        timeout=WAIT_MS,
    )


def check_story_picture(page: Any, state: dict[str, Any]) -> None:
    """The booking's story as a picture: a lane for each agent the trace shows it pushed to,
    a bar per push with its outcome and a width proportional to its latency, on its lane,
    and an arrow from the delivery that published each follow-up (the one agent that acked
    the cause and may publish the follow-up's topic) to each delivery of that follow-up;
    clicking a bar opens that delivery's details."""
    seed = page.locator("#story-id").input_value()
    story = requests.get(state["console"]["url"] + "/api/story", params={"id": seed}, timeout=60)
    story.raise_for_status()
    event_ids = set(story.json()["event_ids"])
    want = expected(load_catalogue(FUNCTIONS_DIR), read_trace(Path(state["trace"])), event_ids)
    drawn = page.evaluate(READ_PICTURE)
    lanes = {lane["name"]: lane for lane in drawn["lanes"]}
    assert {agent for agent, _e, _o in want.bars} <= set(lanes)
    assert len(lanes) == len(drawn["lanes"])  # one lane per agent
    bars = drawn["bars"]
    assert Counter((b["lane"], b["event"], b["outcome"]) for b in bars) == want.bars
    for bar in bars:
        lane = lanes[bar["lane"]]
        assert lane["y"] <= bar["y"] and bar["y"] + bar["height"] <= lane["y"] + lane["height"]
    wide = [b for b in bars if b["width"] > 20]  # past the 2 px a tiny delivery is given
    assert len(wide) >= 3
    ratios = [b["width"] / b["latency"] for b in wide]
    assert max(ratios) <= min(ratios) * 1.01, ratios  # one time scale for every bar
    follow_ups = [a for a in drawn["arrows"] if "arrow-follow-up" in a["kind"]]
    got = {(a["from_event"], a["from_lane"], a["to_event"], a["to_lane"]) for a in follow_ups}
    assert got == want.follow_ups
    assert len(follow_ups) == len(want.follow_ups) >= 5
    by_id = {b["id"]: b for b in bars}
    for arrow in follow_ups:
        source, target = by_id[arrow["from"]], by_id[arrow["to"]]
        assert (source["event"], source["lane"]) == (arrow["from_event"], arrow["from_lane"])
        assert (target["event"], target["lane"]) == (arrow["to_event"], arrow["to_lane"])
        assert inside(arrow["x0"], arrow["y0"], source), arrow  # leaves the causing delivery
        assert abs(arrow["x1"] - target["x"]) <= 1.0, arrow  # reaches the follow-up's start
        assert target["y"] <= arrow["y1"] <= target["y"] + target["height"], arrow
    marks = page.locator("#story-picture g.mark")
    kinds = set(marks.evaluate_all("all => all.map(g => g.dataset.kind)"))
    assert {"published", "document", "call"} <= kinds
    calls = page.locator('#story-picture g.mark[data-kind="call"]')
    assert calls.count() == page.locator('#timeline li[data-kind="call"]').count()

    _cause, _source, follow_up, agent = sorted(want.follow_ups)[0]
    bar = f'#story-picture g.bar[data-event="{follow_up}"][data-lane="{agent}"]'
    page.locator(bar).first.click()
    picked = page.locator("#story-picked").inner_text()
    assert follow_up in picked and f'"agent": "{agent}"' in picked
    assert page.locator("#timeline li.picked").count() == 1

    # The list stays, for search.
    page.fill("#story-search", follow_up)
    shown = page.locator("#timeline li:not([hidden])")
    assert 0 < shown.count() < page.locator("#timeline li").count()
    assert all(follow_up in text for text in shown.all_text_contents())
    page.fill("#story-search", "")


def check_publish_form_starts_valid(page: Any) -> None:
    """Choosing each event type fills the form with data its schema (the runtime's
    registry) accepts."""
    from localdev.console.publishing import _registry

    registry = _registry()
    options = page.locator("#publish-type option").evaluate_all(
        "all => all.map(o => [o.value, o.textContent.split(': ')[1]])"
    )
    assert {event_type for _value, event_type in options} == set(registry)
    for value, event_type in options:
        page.select_option("#publish-type", value)
        registry[event_type].model.model_validate(json.loads(page.input_value("#publish-data")))


def story_screenshot(page: Any, fleet: dict[str, Any]) -> None:
    """The docs' picture of a booking's story (docs/console-story.png), as the console's."""
    page.locator("#story-picked").evaluate("node => node.replaceChildren()")
    page.evaluate("document.querySelectorAll('.picked').forEach(n => n.classList.remove('picked'))")
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(1, 1)  # no bar under the pointer (its hover outline)
    legend = page.locator("#story-legend").bounding_box()
    assert legend is not None
    target = (
        STORY_SCREENSHOT
        if os.environ.get("SWITCHBOARD_UPDATE_SCREENSHOT") == "1"
        else (Path(fleet["root"]) / "console-story.png")
    )
    height = legend["y"] + legend["height"] + 12
    clip = {"x": 0, "y": 0, "width": 1600, "height": height}
    page.screenshot(path=str(target), clip=clip, full_page=True)
    assert target.stat().st_size > 10_000


def test_console_in_a_browser(fleet: dict[str, Any]) -> None:
    state = fleet["state"]
    with chromium_page(fleet["root"] / "chromium-profile") as page:
        page.goto(state["console"]["url"])
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#live.on")
        assert page.locator("#graph svg g.node").count() >= len(state["agents"])
        before = count(page, "scheduler-on-bookings", "acked")

        # 1. Topology, live: the booking scenario's deliveries change the counts.
        out = scenario(fleet, "booking")
        name = re.search(r"for '([^']+)'", out)
        booking = re.search(r"202: (bk-[a-z0-9-]+)", out)
        assert name and booking, out
        wait_count(page, "scheduler-on-bookings", "acked", before + 1)
        wait_count(page, "notifier-on-notifications", "acked", 2)
        label = page.locator(
            'text.edge-count[data-kind=subscribe][data-key="scheduler-on-bookings"]'
        ).text_content()
        assert label and re.search(r"a [1-9]", label)

        # 2. Deliveries, filtered; a row opens its message.
        page.click('#tabs button[data-tab="deliveries"]')
        page.select_option("#filters select[name=agent]", "scheduler")
        page.select_option("#filters select[name=type]", "booking.requested")
        page.click("#filters button[type=submit]")
        row = page.locator('#deliveries tbody tr[data-outcome="acked"]').first
        row.wait_for(timeout=WAIT_MS)
        row.click()
        page.wait_for_selector("#message pre.data")
        assert name[1] in page.locator("#message pre.data").inner_text()

        # 3. The booking's story: its events, deliveries, documents and the SMS.
        page.click("#message button")
        page.wait_for_selector("#timeline li", timeout=WAIT_MS)
        kinds = set(
            page.locator("#timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
        )
        assert {"published", "delivery", "document", "call"} <= kinds
        sms = page.locator('#timeline li[data-kind="call"][data-service="twilio"]')
        assert sms.count() >= 2  # the payment link and the reminder
        assert any(f"Hi {name[1]}" in text for text in sms.all_text_contents())
        documents = page.locator('#timeline li[data-kind="document"]').all_text_contents()
        assert any(f"bookings/{booking[1]}" in text for text in documents)
        assert any("processed_events/notifier:" in text for text in documents)
        types = page.locator("#story-events").inner_text()
        for event_type in ("booking.requested", "booking.confirmed", "payment.recorded"):
            assert event_type in types
        trace = read_trace(Path(state["trace"]))
        correlation = page.locator("#story-summary").inner_text().rsplit("correlation ", 1)[1]
        acked = [e for e in trace if e.correlation_id == correlation and e.outcome == "acked"]
        assert len(acked) <= page.locator('#timeline li[data-kind="delivery"]').count()
        check_story_picture(page, state)
        story_screenshot(page, fleet)

        # 4. A poison message in the dead letters; redriven to the scheduler only.
        out = scenario(fleet, "poison")
        prefix = re.search(r"not JSON \(([0-9a-f]{8})\)", out)
        assert prefix, out
        page.click('#tabs button[data-tab="deadletters"]')
        letter = page.locator(
            f'#dl-letters tr[data-subscription="scheduler-on-bookings"][data-event^="{prefix[1]}"]'
        )
        letter.first.wait_for(timeout=WAIT_MS)
        assert "permanent failure" in letter.first.inner_text()
        event_id = letter.first.get_attribute("data-event")
        mark = len(read_trace(Path(state["trace"])))
        letter.first.locator("button.redrive").click()
        page.wait_for_selector("#dl-result[data-result=redriven]", timeout=WAIT_MS)
        assert "for scheduler-on-bookings only" in page.locator("#dl-result").inner_text()
        wait_for(
            lambda: [
                e
                for e in read_trace(Path(state["trace"]))[mark:]
                if e.event_id == event_id and e.agent == "scheduler"
            ],
            60,
            "the redriven poison message to reach the scheduler",
        )
        page.click('#tabs button[data-tab="deliveries"]')
        page.click("#filters button[type=reset]")
        page.locator(
            f'#deliveries tbody tr[data-event="{event_id}"][data-agent="scheduler"]'
        ).first.wait_for(timeout=WAIT_MS)
        others = [
            e
            for e in read_trace(Path(state["trace"]))[mark:]
            if e.event_id == event_id and e.agent != "scheduler" and e.outcome != "filtered out"
        ]
        assert not others, others

        # 5. Publish a booking from the form; a calendar 400 dead-letters it; redrive -> processed.
        sandbox = state["sandbox"]["url"]
        requests.post(
            sandbox + "/_sandbox/faults",
            json={"service": "calendar", "kind": "status", "status": 400, "count": 1},
            timeout=10,
        ).raise_for_status()
        page.click('#tabs button[data-tab="publish"]')
        check_publish_form_starts_valid(page)
        option = page.locator("#publish-type option", has_text="bookings: booking.requested")
        page.select_option("#publish-type", option.get_attribute("value"))
        data = json.loads(page.locator("#publish-data").input_value())
        data.update(
            booking_id="bk-console-redrive",
            customer={"name": "Grace Console", "phone": "+447700900124"},
            service="haircut",
            starts_at="2031-06-02T10:00:00+00:00",
            ends_at="2031-06-02T10:30:00+00:00",
            amount_minor=2500,
            currency="gbp",
        )
        page.fill("#publish-data", json.dumps(data))
        page.click("#publish-form button[type=submit]")
        published = page.locator("#publish-result p.ok")
        published.wait_for(timeout=WAIT_MS)
        booking_event = published.get_attribute("data-event")
        page.click('#tabs button[data-tab="deadletters"]')
        fixable = page.locator(f'#dl-letters tr[data-event="{booking_event}"]')
        fixable.wait_for(timeout=WAIT_MS)
        assert "permanent failure" in fixable.inner_text()
        fixable.locator("button.redrive").click()
        page.wait_for_selector(f'#dl-letters tr[data-event="{booking_event}"]', state="detached")
        wait_for(
            lambda: [
                e
                for e in read_trace(Path(state["trace"]))
                if e.correlation_id == booking_event
                and e.agent == "ledger"
                and e.event_type == "booking.confirmed"
                and e.outcome == "acked"
            ],
            120,
            "the redriven booking to be confirmed and recorded by the ledger",
        )
        page.click('#tabs button[data-tab="story"]')
        page.fill("#story-id", booking_event)
        page.click("#story-form button[type=submit]")
        page.wait_for_selector(
            '#timeline li[data-kind="dead-letter"], #story-events', timeout=WAIT_MS
        )
        assert "booking.confirmed" in page.locator("#story-events").inner_text()

        # 6. Data: the claims with their states, and the booking's projection.
        page.click('#tabs button[data-tab="data"]')
        page.select_option("#collection", "processed_events")
        page.wait_for_selector("#documents details summary >> text=done", timeout=WAIT_MS)
        page.select_option("#collection", "bookings")
        projection = page.locator(f'#documents details[data-path="bookings/{booking[1]}"]')
        projection.wait_for(timeout=WAIT_MS)
        assert "confirmed" in projection.inner_text()
        assert page.locator('#calls details[data-service="twilio"]').count() >= 2

        # The README's screenshot: the live topology after all of that.
        page.click('#tabs button[data-tab="topology"]')
        page.wait_for_timeout(500)
        target = (
            SCREENSHOT
            if os.environ.get("SWITCHBOARD_UPDATE_SCREENSHOT") == "1"
            else (Path(fleet["root"]) / "console.png")
        )
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000


# Holds the answer for the documents of ``console-test-earlier`` back by 3 s and counts
# those held answers once delivered, so the test knows the stale answer has arrived.
HOLD_EARLIER_DOCUMENTS = """(() => {
    const original = window.fetch.bind(window);
    window.heldAnswers = 0;
    window.fetch = async (resource, options) => {
        const answer = await original(resource, options);
        if (String(resource).includes("collection=console-test-earlier")) {
            await new Promise((resolve) => setTimeout(resolve, 3000));
            window.heldAnswers += 1;
        }
        return answer;
    };
})();"""


def test_a_slow_answer_for_an_earlier_choice_never_replaces_the_current_one(
    fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = fleet["state"]
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", state["firestore"]["emulator_host"])
    from google.cloud import firestore

    client = firestore.Client(project=state["project"])
    for collection in ("console-test-earlier", "console-test-later"):
        client.collection(collection).document("only").set({"state": collection})

    with chromium_page(fleet["root"] / "chromium-profile-stale") as page:
        page.add_init_script(HOLD_EARLIER_DOCUMENTS)
        page.goto(state["console"]["url"])
        page.wait_for_selector("body[data-ready=true]")
        page.click('#tabs button[data-tab="data"]')
        page.wait_for_selector('#collection option[value="console-test-later"]', state="attached")
        page.select_option("#collection", "console-test-earlier")
        page.select_option("#collection", "console-test-later")
        page.wait_for_function("() => window.heldAnswers >= 1", timeout=WAIT_MS)
        page.wait_for_timeout(200)  # the held answer's own handler has run by now

        assert page.locator("#documents h3").inner_text() == "console-test-later (1)"
        assert page.locator("#documents details summary").inner_text() == (
            "only — console-test-later"
        )
