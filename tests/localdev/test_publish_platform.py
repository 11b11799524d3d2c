"""End to end: `make agent`, then `make publish` reaches the agent under `make dev`, and
`make trace` shows the deliveries of the event and of the follow-ups it caused.

One platform on a small fleet built with the scaffold: ``echo`` (untouched) and
``relay`` on ``inbound``, and ``sink`` on ``notifications``; relay's handler is edited to
publish one notification per SMS, so the trace has a second generation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.catalogue import FUNCTIONS_DIR
from library.event_examples import example
from localdev.trace import ACKED
from tests.conftest import require_emulators
from tests.localdev.harness import REPO, LocalPlatform, wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e, pytest.mark.timeout(240)]

RELAY = """

@agent.on("sms.received")
def sms_received(ctx: Context[SmsReceived]) -> str:
    ctx.publish(
        "notifications",
        "notification.requested",
        {"to": ctx.data.from_number, "body": "got it", "purpose": "other"},
        purpose="ack",
    )
    return "relayed"
"""


def fleet(root: Path) -> Path:
    functions = root / "functions"
    functions.mkdir()
    shutil.copy(FUNCTIONS_DIR / "catalogue.yaml", functions / "catalogue.yaml")
    shutil.copytree(
        FUNCTIONS_DIR / "shared", functions / "shared", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name, topic in (("echo", "inbound"), ("relay", "inbound"), ("sink", "notifications")):
        subprocess.run(
            [sys.executable, "-m", "tools.new_agent", name, "--topic", topic,
             "--functions-root", str(functions), "--tests-dir", str(root / "tests")],
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
    relay = functions / "relay"
    manifest = relay / "agent.yaml"
    manifest.write_text(manifest.read_text().replace("publishes: []", "publishes: [notifications]"))
    main = (relay / "main.py").read_text()
    start, end = main.index('\n\n@agent.on("sms.received")'), main.index("\n\n@functions_framework")
    (relay / "main.py").write_text(main[:start] + RELAY + main[end:])
    return functions


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    require_emulators()
    root = tmp_path_factory.mktemp("publish")
    running = LocalPlatform(root, functions=fleet(root))
    try:
        running.start()
        yield running
    finally:
        running.kill_everything()


def localdev(platform: LocalPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localdev", *args, "--state-dir", str(platform.state_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_publish_reaches_the_scaffolded_agent_and_trace_follows_causation(
    platform: LocalPlatform,
) -> None:
    import json

    published = localdev(
        platform,
        "publish",
        "--topic",
        "inbound",
        "--type",
        "sms.received",
        "--data",
        json.dumps(example("sms.received")),
    )
    assert published.returncode == 0, published.stderr
    event_id = published.stdout.split("event_id", 1)[1].split()[0]
    assert f"make trace ID={event_id}" in published.stdout

    def settled() -> bool:
        acked = {(e.agent, e.event_id == event_id) for e in platform.trace() if e.outcome == ACKED}
        return {("echo", True), ("relay", True), ("sink", False)} <= acked

    wait_for(settled, 90, "echo and relay to ack the SMS and sink the notification")
    traced = localdev(platform, "trace", event_id[:8])
    assert traced.returncode == 0, traced.stderr
    rows = [line.split() for line in traced.stdout.splitlines()[2:]]
    assert {(row[0], row[2], row[3]) for row in rows} == {
        ("0", "echo", "sms.received"),
        ("0", "relay", "sms.received"),
        ("1", "sink", "notification.requested"),
    }
    assert all("acked" in " ".join(row) for row in rows)


def test_publish_refuses_invalid_data_naming_the_field(platform: LocalPlatform) -> None:
    data = {k: v for k, v in example("sms.received").items() if k != "body"}
    import json

    refused = localdev(
        platform,
        "publish",
        "--topic",
        "inbound",
        "--type",
        "sms.received",
        "--data",
        json.dumps(data),
    )
    assert refused.returncode == 2
    assert (
        "cannot publish sms.received to inbound: invalid sms.received data: body: Field required"
        in refused.stderr
    )
    assert "Traceback" not in refused.stderr
