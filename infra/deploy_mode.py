"""Whether the program is creating real resources: a ``pulumi up``, not a preview, not the
offline render.

``pulumi.runtime.is_dry_run()`` is true in a preview. The offline render, the preflight,
the diff and the tests run the program under Pulumi's mocks with ``preview=False``
(``infra/offline/harness.py``), so is_dry_run() alone would take them for an update: the
harness marks its runs with :func:`offline`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pulumi

_offline_runs: list[None] = []
"""One entry per :func:`offline` block being run (a process-wide mark, not a context
variable: the program body may run on another thread or task than the one that marked)."""


@contextmanager
def offline() -> Iterator[None]:
    """Mark the program runs inside as offline (no real resource is created)."""
    _offline_runs.append(None)
    try:
        yield
    finally:
        _offline_runs.pop()


def is_offline() -> bool:
    return bool(_offline_runs)


def is_real_deploy() -> bool:
    """True in a ``pulumi up`` (or destroy/refresh) against the cloud, False in a preview
    and offline."""
    return not pulumi.runtime.is_dry_run() and not is_offline()
