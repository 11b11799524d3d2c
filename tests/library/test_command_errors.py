"""A command's invalid input: its message on stderr and exit 2, no traceback; any other
error still raises."""

from __future__ import annotations

import pytest

from library.command_errors import EXIT_INVALID_INPUT, exits_on


class BadInputError(ValueError):
    pass


@exits_on(BadInputError)
def command(error: Exception | None) -> int:
    if error is not None:
        raise error
    return 0


def test_the_named_errors_print_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert command(None) == 0
    assert command(BadInputError("functions/x/agent.yaml: colour: unknown field")) == 2
    assert EXIT_INVALID_INPUT == 2
    assert capsys.readouterr().err == "functions/x/agent.yaml: colour: unknown field\n"


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        command(KeyError("bug"))
