"""Reachability of the fleet: publishers, filters evaluated with the project's filter
language on a real publish's attributes, handlers; lost edges in ``make diff``; preflight
rules for types nobody receives and filters that match nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.catalogue import FUNCTIONS_DIR
from tools.diff.__main__ import main
from tools.preflight.contracts import dead_filters, unreceived_types
from tools.reachability import build, edge_changes, table


def test_the_fleet_reaches_every_published_type() -> None:
    model = build(FUNCTIONS_DIR)
    assert model.publishers("payment.received") == ["gateway"]
    assert model.receivers_of("payment.received") == ["billing", "ledger"]
    assert model.handlers_of("payment.received") == ["billing", "ledger"]
    assert model.receivers_of("booking.requested") == ["ledger", "scheduler"]
    assert model.receivers_of("tick") == ["reminders"]
    assert model.publishers("notification.requested") == ["billing", "reminders"]
    carried = {(p.publisher, p.event_type): dict(p.attributes) for p in model.publications}
    origin = carried[("gateway", "payment.received")]
    assert (origin["source"], origin["causation_id"], origin["schema_version"]) == (
        "gateway",
        "",
        "1",
    )
    assert carried[("billing", "payment.recorded")]["causation_id"] != ""  # ctx.publish
    assert carried[("cloud-scheduler", "tick")] == {
        "type": "tick",
        "target": "reminders",
        "source": "cloud-scheduler",
    }
    assert list(unreceived_types(model)) == []
    assert list(dead_filters(model)) == []
    assert "payment.received: gateway -> billing, ledger (handled by billing, ledger)" in table(
        model
    )


def edit_agent(functions: Path, agent: str, change) -> None:  # type: ignore[no-untyped-def]
    path = functions / agent / "agent.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document))


def narrow_billing_payments(document: dict) -> None:  # type: ignore[type-arg]
    # A valid filter, and a plausible slip: the gateway, not Stripe, is the source.
    for subscription in document["subscriptions"]:
        if subscription["topic"] == "payments":
            subscription["filter"] = (
                'attributes.type = "payment.received" AND attributes.source = "stripe"'
            )


def test_a_filter_that_cuts_billing_off_is_a_lost_edge_and_a_dead_filter(
    functions_copy: Path,
) -> None:
    edit_agent(functions_copy, "billing", narrow_billing_payments)
    base, head = build(FUNCTIONS_DIR), build(functions_copy)
    assert edge_changes(base, head) == ([], [("payment.received", "billing")])
    (finding,) = dead_filters(head)
    assert finding.rule == "subscription-filter-matches-something"
    assert "functions/billing/agent.yaml" in finding.problem and "payments" in finding.problem


@pytest.mark.slow
def test_make_diff_shows_the_lost_edge(
    functions_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_agent(functions_copy, "billing", narrow_billing_payments)
    assert main(["--contracts-only", "--functions-root", str(functions_copy)]) == 0
    out = capsys.readouterr().out
    assert "- edge payment.received -> billing (LOST: billing stops receiving" in out
    assert main(["--contracts-only", "--markdown", "--functions-root", str(functions_copy)]) == 0
    assert "| **- lost** | `payment.received` | **billing** |" in capsys.readouterr().out


def test_a_type_nobody_receives_fails_unless_terminal(functions_copy: Path) -> None:
    def drop_payments(document: dict) -> None:  # type: ignore[type-arg]
        document["subscriptions"] = [
            s for s in document["subscriptions"] if s["topic"] != "payments"
        ]

    edit_agent(functions_copy, "ledger", drop_payments)
    found = {f.resource: f for f in unreceived_types(build(functions_copy))}
    assert set(found) == {
        "event type payment.link_created (topic payments)",
        "event type payment.recorded (topic payments)",
    }
    assert "published by billing" in found["event type payment.recorded (topic payments)"].problem
    catalogue = functions_copy / "catalogue.yaml"
    document = yaml.safe_load(catalogue.read_text())
    document["topics"]["payments"]["terminal"] = ["payment.link_created", "payment.recorded"]
    catalogue.write_text(yaml.safe_dump(document))
    assert list(unreceived_types(build(functions_copy))) == []


def test_a_terminal_type_must_be_carried_by_its_topic(functions_copy: Path) -> None:
    from infra.catalogue import load_catalogue
    from infra.catalogue.errors import CatalogueError

    catalogue = functions_copy / "catalogue.yaml"
    document = yaml.safe_load(catalogue.read_text())
    document["topics"]["payments"]["terminal"] = ["booking.requested"]
    catalogue.write_text(yaml.safe_dump(document))
    with pytest.raises(CatalogueError, match="terminal"):
        load_catalogue(functions_copy)


def test_preflight_reports_the_contract_findings(
    functions_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.preflight import contracts
    from tools.preflight.graph import Render
    from tools.preflight.rules import StackFacts, check

    edit_agent(functions_copy, "billing", narrow_billing_payments)
    monkeypatch.setattr(contracts, "FUNCTIONS_DIR", functions_copy)
    findings = check(Render.from_manifest({"stack": "dev", "resources": []}), StackFacts())
    assert "subscription-filter-matches-something" in [f.rule for f in findings]


def test_the_table_command(capsys: pytest.CaptureFixture[str], functions_copy: Path) -> None:
    from tools.reachability import main as table_main

    assert table_main([]) == 0
    assert "tick: cloud-scheduler -> reminders (handled by reminders)" in capsys.readouterr().out
    (functions_copy / "billing" / "main.py").write_text("def broken(:\n")
    assert table_main(["--functions-root", str(functions_copy)]) == 2
    assert "billing/main.py: cannot be read" in capsys.readouterr().err


def test_unreadable_agent_code_is_one_preflight_finding_not_a_traceback(
    functions_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.preflight import contracts
    from tools.preflight.graph import Render
    from tools.preflight.rules import StackFacts, check

    (functions_copy / "billing" / "main.py").write_text("def broken(:\n")
    monkeypatch.setattr(contracts, "FUNCTIONS_DIR", functions_copy)
    findings = check(Render.from_manifest({"stack": "dev", "resources": []}), StackFacts())
    (finding,) = [f for f in findings if f.resource == "agent code"]
    assert "billing/main.py: cannot be read" in finding.problem
