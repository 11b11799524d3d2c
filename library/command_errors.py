"""One clear error, no traceback: how a command reports input a person has to fix.

:func:`exits_on` wraps a command's ``main``: an error of the given kinds (an invalid
catalogue, invalid stack settings) prints its message (every problem, and what to write)
to stderr and returns the exit code instead of a traceback. Which errors those are is the
caller's to say (they are declared above this layer); ``tools.catalogue_errors`` names them
for the commands under ``tools/``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec

EXIT_INVALID_INPUT = 2

P = ParamSpec("P")


def report(error: Exception, code: int = EXIT_INVALID_INPUT) -> int:
    """Print the problems for a person; the exit code to return."""
    print(error, file=sys.stderr)
    return code


def exits_on(
    *errors: type[Exception], code: int = EXIT_INVALID_INPUT
) -> Callable[[Callable[P, int]], Callable[P, int]]:
    def decorate(main: Callable[P, int]) -> Callable[P, int]:
        @functools.wraps(main)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> int:
            try:
                return main(*args, **kwargs)
            except errors as error:
                return report(error, code)

        return guarded

    return decorate
