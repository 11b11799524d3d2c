"""Every command in the README's and docs' ``sh`` blocks runs as written, or is excused.

The unit test holds every command to a rule (``tests/docs/doc_commands.py``). The
emulator test makes a fresh clone of this repository (with the working tree's files laid
over it, so what is tested is what is on disk), gives it the venv this test runs in,
starts the local platform in it on free ports (``make dev``'s command with
``--base-port 0``) and runs each local command as written, in the docs' order, from the
clone's root, one ``bash -c`` each, bounded in time. Placeholders a reader fills in are
filled the same way: ``<the event_id it printed>`` from the ``make publish`` before it,
``MESSAGE_ID`` / ``ID`` with a dead letter of the agent the command names (the test
makes one: a Stripe 400 from the sandbox makes billing dead-letter a booking), optional
``[...]`` parts are given; a purge's confirmation is typed. What ``make agent`` scaffolds
is removed after it (the renders the later commands check must stay current).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from library.event_examples import example
from localdev.processes import sandbox_available
from localdev.trace import read_trace
from tests.conftest import require_emulators
from tests.docs.doc_commands import (
    CLOUD,
    REPO,
    RUN,
    DocCommand,
    doc_commands,
    strip_comment,
    unclassified,
    verdict,
)
from tests.localdev.harness import wait_for

COMMAND_TIMEOUT = 420
"""One command at most (a render of every stack twice, for ``diff --base``, on 2 busy cores)."""
LOCAL_NAMES = ("publish", "trace", "scenario", "deadletters", "topology", "render", "diff")


def test_strip_comment_keeps_a_hash_inside_quotes() -> None:
    assert strip_comment("make dev    # the fleet") == "make dev"
    assert strip_comment('make publish DATA=\'{"a": "#1"}\'  # x') == (
        'make publish DATA=\'{"a": "#1"}\''
    )


def test_every_doc_command_is_run_or_excused_by_a_rule() -> None:
    commands = doc_commands()
    assert len(commands) >= 20
    missing = unclassified(commands)
    assert not missing, "no rule in tests/docs/doc_commands.py covers: " + "; ".join(
        f"{c.where} {c.text}" for c in missing
    )
    run = [c.text for c in commands if verdict(c) == RUN]
    for name in LOCAL_NAMES:
        assert any(text.startswith(f"make {name}") for text in run), name
    assert any(re.match(r"(\.venv/bin/)?python -m tools\.", text) for text in run)
    assert verdict(DocCommand("x", 1, "make verify STACK=dev")) == CLOUD


def fill(command: str, values: dict[str, str]) -> str:
    """The command with a reader's placeholders filled in and optional parts given."""
    text = re.sub(r"\[([^\[\]]*)\]", r"\1", command)
    text = text.replace("<the event_id it printed>", values.get("event_id", "<no event>"))
    if "tools.deadletters" in text:
        text = re.sub(r"\b(MESSAGE_ID|ID)\b", values.get("dead_letter", "<no letter>"), text)
    return text


def fresh_clone(target: Path) -> None:
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], check=True
    )
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
        elif not source.exists():
            (target / name).unlink(missing_ok=True)  # deleted in the working tree
    give_venv(target)


def give_venv(target: Path) -> None:
    """The clone's ``.venv``: the venv this test runs in, entry by entry, with make's
    "installed" stamp of its own, so ``make`` uses it and never installs into it (a venv
    shared with other trees would lose its stamp to their ``make venv``)."""
    venv = target / ".venv"
    venv.mkdir()
    for entry in Path(sys.prefix).iterdir():
        if not entry.name.startswith(".installed-"):
            (venv / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    planned = subprocess.run(
        ["make", "-n", "venv"], cwd=target, capture_output=True, text=True, check=True
    ).stdout
    stamp = re.search(r"touch (\S+/\.installed-\d+)", planned)
    if stamp:  # absent when make finds the stamp already there
        (target / stamp[1]).touch()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_emulators()
    if shutil.which("make") is None or shutil.which("git") is None:
        pytest.skip("make or git is not installed")
    if not sandbox_available(REPO):
        pytest.skip("the sandbox package is not in this tree")
    root = tmp_path_factory.mktemp("docs") / "switchboard"
    fresh_clone(root)
    venv_ready = subprocess.run(["make", "-q", "venv"], cwd=root, check=False)
    if venv_ready.returncode != 0:
        pytest.fail(f"{sys.prefix} is not installed for this tree's requirements: run make venv")
    output_path = root.parent / "platform-output.txt"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "localdev", "up", "--base-port", "0"],
            cwd=root,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    state_file = root / ".local" / "platform.json"
    try:
        wait_for(
            lambda: state_file.is_file() or process.poll() is not None,
            180,
            "the fleet in the clone to be ready",
        )
        assert process.poll() is None, output_path.read_text()
        yield {"root": root, "state": json.loads(state_file.read_text())}
    finally:
        process.terminate()
        process.wait(60)


def run(root: Path, text: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", text],
        cwd=root,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def billing_dead_letter(clone: dict[str, Any]) -> None:
    """A booking billing dead-letters (the sandbox's Stripe answers 400 once)."""
    state, root = clone["state"], clone["root"]
    requests.post(
        state["sandbox"]["url"] + "/_sandbox/faults",
        json={"service": "stripe", "kind": "status", "status": 400, "count": 1},
        timeout=10,
    ).raise_for_status()
    data = {**example("booking.confirmed"), "booking_id": "bk-docs-dead-letter"}
    published = run(
        root,
        f"python -m localdev publish --topic bookings --type booking.confirmed "
        f"--data '{json.dumps(data)}'",
    )
    assert published.returncode == 0, published.stdout + published.stderr
    wait_for(
        lambda: any(
            e.agent == "billing" and e.agent_outcome == "dead_lettered"
            for e in read_trace(Path(state["trace"]))
        ),
        120,
        "billing to dead-letter the booking",
    )


@pytest.mark.emulator
@pytest.mark.e2e
@pytest.mark.timeout(2400)
def test_the_docs_local_commands_run_as_written(clone: dict[str, Any]) -> None:
    root = clone["root"]
    billing_dead_letter(clone)
    values: dict[str, str] = {}
    failures, timings = [], []
    for command in doc_commands(root):
        if verdict(command) != RUN:
            continue
        if "tools.deadletters" in command.text and "--agent billing" in command.text:
            listed = run(root, "python -m tools.deadletters list --agent billing").stdout
            found = re.search(r"-dead-letter\s+(\d+)\s", listed)
            assert found, listed
            values["dead_letter"] = found[1]
        text = fill(command.text, values)
        started = time.monotonic()
        result = run(root, text, stdin="purge\n" if " purge " in text else "")
        timings.append(f"{time.monotonic() - started:6.1f}s  {command.where}  {text[:70]}")
        if result.returncode != 0:
            failures.append(
                f"{command.where}: {text}\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
            )
        if command.text.startswith("make agent"):  # undone, so the renders stay current
            written = re.findall(r"^wrote (\S+)$", result.stdout, re.MULTILINE)
            assert len(written) >= 4, result.stdout + result.stderr
            for name in written:
                (root / name).unlink(missing_ok=True)
            for name in {str(Path(n).parent) for n in written if n.startswith("functions/")}:
                shutil.rmtree(root / name)
        printed = re.search(r"event_id\s+(\S+)", result.stdout)
        if command.text.startswith("make publish") and printed:
            values["event_id"] = printed[1]
        if command.text.startswith("make trace"):
            assert "what it caused" in result.stdout, result.stdout + result.stderr
    print("\n".join(timings))
    assert not failures, "\n\n".join(failures)
    assert "event_id" in values  # the README's publish printed its event id
