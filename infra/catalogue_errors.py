"""One clear error, no traceback: what a command prints when the catalogue or a stack's
settings are invalid.

Every command that loads the catalogue or a stack file wraps its ``main`` in
:func:`exits_on_catalogue_error`: an invalid catalogue prints every problem (file, field,
reason) to stderr and exits 2; invalid stack settings (``Pulumi.<stack>.yaml``: the key,
what is wrong, what to write) print the same way and exit 2 too.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec

from infra.catalogue import CatalogueError
from infra.settings import SettingsError

EXIT_INVALID_CATALOGUE = 2
EXIT_INVALID_SETTINGS = 2

P = ParamSpec("P")


def report(error: CatalogueError | SettingsError) -> int:
    """Print the problems for a person; the exit code to return."""
    print(error, file=sys.stderr)
    if isinstance(error, SettingsError):
        return EXIT_INVALID_SETTINGS
    return EXIT_INVALID_CATALOGUE


def exits_on_catalogue_error(main: Callable[P, int]) -> Callable[P, int]:
    @functools.wraps(main)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except (CatalogueError, SettingsError) as error:
            return report(error)

    return guarded
