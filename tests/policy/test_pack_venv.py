"""The CrossGuard adapter, in the pack's own venv (pulumi-policy pins protobuf 5), when
that venv exists here; CI runs ``policy/check.sh`` itself, which creates it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"


def test_policy_pack_wraps_every_rule_and_serves() -> None:
    if not (POLICY_DIR / ".venv-policy" / "bin" / "python").is_file():
        pytest.skip("policy/.venv-policy not created here: run policy/check.sh (CI does)")
    result = subprocess.run(
        [str(POLICY_DIR / ".venv-policy" / "bin" / "python"), "check_pack.py"],
        cwd=POLICY_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ok: 14 pure policies wrapped" in result.stdout
