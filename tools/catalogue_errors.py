"""One clear error, no traceback: what a command prints when the catalogue is invalid.

Every command that loads the catalogue wraps its ``main`` in :func:`exits_on_catalogue_error`:
an invalid catalogue prints every problem (file, field, reason) to stderr and exits 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec

from infra.catalogue import CatalogueError

EXIT_INVALID_CATALOGUE = 2

P = ParamSpec("P")


def report(error: CatalogueError) -> int:
    """Print the problems for a person; the exit code to return."""
    print(error, file=sys.stderr)
    return EXIT_INVALID_CATALOGUE


def exits_on_catalogue_error(main: Callable[P, int]) -> Callable[P, int]:
    @functools.wraps(main)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except CatalogueError as error:
            return report(error)

    return guarded
