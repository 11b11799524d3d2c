"""A built archive, unzipped alone, serves a push request: it is self-contained."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.packaging.archive import build_archive
from localdev.emulators import wipe_firestore
from tests.functions.harness import Harness

pytestmark = pytest.mark.emulator
REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "demo-archive-tests"

SERVE = r"""
import json, sys
import functions_framework
app = functions_framework.create_app(target="handle", source=sys.argv[1])
envelope = json.loads(sys.argv[2])
response = app.test_client().post("/", json=envelope)
print("RESULT", response.status_code, response.get_data(as_text=True))
import switchboard_runtime, main
print("FROM", switchboard_runtime.__file__, main.__file__)
"""


def test_unzipped_archive_serves_a_push_request(
    emulators: Any, sandbox_server: Any, tmp_path: Path
) -> None:
    wipe_firestore(emulators.firestore.address, PROJECT)
    built = build_archive(REPO_ROOT / "functions", "ledger", tmp_path / "out")
    unzipped = tmp_path / "unzipped"
    unzipped.mkdir()
    with zipfile.ZipFile(built.path) as archive:
        archive.extractall(unzipped)
    assert (unzipped / "switchboard_runtime" / "handler.py").is_file()
    assert (unzipped / "requirements.txt").is_file()

    harness = Harness(emulators, sandbox_server, PROJECT, "ledger", consumes=("bookings",))
    envelope = harness.envelope(
        "bookings", "booking.cancelled", {"booking_id": "bk-archive-1"}, event_id="e-archive-1"
    )
    # -I: isolated (no PYTHONPATH, no script or cwd on sys.path): only the archive and the
    # installed requirements can be imported.
    done = subprocess.run(
        [sys.executable, "-I", "-c", SERVE, str(unzipped / "main.py"), json.dumps(envelope)],
        cwd=unzipped,
        env=harness.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))
    status, body = result.split(" ", 2)[1:]
    assert status == "200", body
    assert json.loads(body)["outcome"] == "recorded"
    origins = next(line for line in done.stdout.splitlines() if line.startswith("FROM"))
    assert origins.count(str(unzipped)) == 2
    entry = harness.firestore().collection("ledger").document("e-archive-1").get()
    assert entry.exists and entry.to_dict()["booking_id"] == "bk-archive-1"
