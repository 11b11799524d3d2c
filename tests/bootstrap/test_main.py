"""bootstrap/__main__.py runs as the Pulumi engine runs it: the folder as the program."""

from __future__ import annotations

import runpy
import sys

import pytest

from infra.offline.harness import run_under_mocks
from tests.bootstrap.harness import BOOTSTRAP_DIR, PROJECT, example_config


@pytest.mark.slow
def test_the_entry_point_declares_the_program_from_its_own_folder() -> None:
    before = set(sys.modules)
    try:
        run = run_under_mocks(
            lambda: runpy.run_path(str(BOOTSTRAP_DIR), run_name="__main__"),
            stack="ops",
            config=example_config(),
            project=PROJECT,
        )
    finally:  # the folder's package was imported top-level; leave no trace for others
        for name in set(sys.modules) - before:
            if name.split(".")[0] == "switchboard_bootstrap":
                del sys.modules[name]
    types = {r.type for r in run.registrations}
    assert "switchboard:bootstrap:Deployer" in types
    assert "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider" in types
