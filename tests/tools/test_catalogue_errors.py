"""An invalid catalogue: every command prints its problems, no traceback, and exits 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from infra.offline.harness import run_under_mocks, stack_config
from tools.catalogue_errors import EXIT_INVALID_CATALOGUE

PROBLEM = "reminders/agent.yaml: colour: unknown field"


@pytest.fixture
def bad_root(functions_copy: Path) -> Path:
    manifest = functions_copy / "reminders" / "agent.yaml"
    manifest.write_text(manifest.read_text() + "colour: blue\n")
    return functions_copy


def _render(root: Path, out: Path) -> int:
    from tools.render.__main__ import main

    return main(["dev", "--functions-root", str(root), "--out", str(out), "--quiet"])


def _diff(root: Path, out: Path) -> int:
    from tools.diff.__main__ import main

    return main(["--stack", "dev", "--functions-root", str(root)])


def _topology(root: Path, out: Path) -> int:
    from tools.topology.__main__ import main

    return main(["--functions-root", str(root), "--out-dir", str(out)])


def _policy(root: Path, out: Path) -> int:
    from policy.switchboard_policies.__main__ import main

    return main(["--functions-root", str(root)])


def _verify(root: Path, out: Path) -> int:
    from tools.verify.__main__ import main

    return main(["--project", "p", "--region", "europe-west2", "--functions-root", str(root)])


def _deadletters(root: Path, out: Path) -> int:
    from tools.deadletters.__main__ import main

    return main(["--project", "p", "--functions", str(root), "list"])


def _dev(root: Path, out: Path) -> int:
    from localdev.cli import main

    return main(["up", "--functions-root", str(root), "--state-dir", str(out)])


COMMANDS: dict[str, Callable[[Path, Path], int]] = {
    "render": _render,
    "diff": _diff,
    "topology": _topology,
    "policy": _policy,
    "verify": _verify,
    "deadletters": _deadletters,
    "dev": _dev,
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_reports_the_problem_and_exits_2(
    command: str, bad_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert COMMANDS[command](bad_root, tmp_path / "out") == EXIT_INVALID_CATALOGUE
    err = capsys.readouterr().err
    assert "invalid agent catalogue (1 problem)" in err
    assert PROBLEM in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_pulumi_program_fails_with_a_run_error(bad_root: Path) -> None:
    """Pulumi's language host logs a RunError's message as an error, with no traceback."""
    from infra.program import main

    with pytest.raises(pulumi.RunError, match=PROBLEM):
        run_under_mocks(lambda: main(bad_root), stack="dev", config=stack_config("dev"))


def test_a_stack_setting_problem_is_a_run_error_too() -> None:
    """A secret without a value source (a user's mistake) is reported like a bad catalogue."""
    from infra.catalogue import FUNCTIONS_DIR
    from infra.program import main

    config = stack_config("dev")
    config["switchboard:secrets"] = {
        k: v for k, v in config["switchboard:secrets"].items() if k != "stripe-api-key"
    }
    with pytest.raises(pulumi.RunError, match=r"switchboard:secrets\.stripe-api-key: no value"):
        run_under_mocks(lambda: main(FUNCTIONS_DIR), stack="dev", config=config)
