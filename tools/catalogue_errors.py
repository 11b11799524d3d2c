"""One clear error, no traceback: what a command prints when the catalogue or a stack's
settings are invalid.

Every command that loads the catalogue or a stack file wraps its ``main`` in
:func:`exits_on_catalogue_error`: an invalid catalogue prints every problem (file, field,
reason) to stderr and exits 2; invalid stack settings (``Pulumi.<stack>.yaml``: the key,
what is wrong, what to write) print the same way and exit 2 too. The mechanism is
:mod:`library.command_errors`; the policy command uses it with the same two errors.
"""

from __future__ import annotations

from infra.catalogue import CatalogueError
from infra.settings import SettingsError
from library.command_errors import EXIT_INVALID_INPUT, exits_on

EXIT_INVALID_CATALOGUE = EXIT_INVALID_INPUT
EXIT_INVALID_SETTINGS = EXIT_INVALID_INPUT
INVALID_INPUT = (CatalogueError, SettingsError)

exits_on_catalogue_error = exits_on(*INVALID_INPUT)
