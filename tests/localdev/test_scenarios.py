"""The named scenarios against the real fleet (real agents, real sandbox) on the local
platform. Skipped where the sandbox package is not there yet."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.processes import sandbox_available
from tests.conftest import require_emulators
from tests.localdev.harness import REPO, wait_for

pytestmark = [pytest.mark.emulator, pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_emulators()
    if not sandbox_available(REPO):
        pytest.skip("the sandbox package is not in this tree yet")
    state_dir = tmp_path_factory.mktemp("fleet") / ".local"
    output = (state_dir.parent / "platform-output.txt").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev", "up", "--state-dir", str(state_dir), "--base-port", "0"],
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
        assert process.poll() is None, (state_dir.parent / "platform-output.txt").read_text()
        yield state_dir
    finally:
        process.terminate()
        process.wait(60)
        output.close()


@pytest.mark.parametrize("name", ["booking", "conflict", "poison"])
def test_scenario(state_dir: Path, name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localdev", "scenario", name, "--state-dir", str(state_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout
