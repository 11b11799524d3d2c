"""Deferring Ctrl-C/SIGTERM while child processes are being spawned.

A KeyboardInterrupt raised between ``Popen()`` returning and the child being recorded
would leak that child: nothing would know to stop it. Code that spawns and records runs
inside :func:`spawning`; a signal arriving then is remembered and raised as soon as the
outermost such block ends, when every child is recorded and ``Platform.stop`` finds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


@contextmanager
def spawning() -> Iterator[None]:
    _state.depth = _depth() + 1
    try:
        yield
    finally:
        _state.depth = _depth() - 1
        if _state.depth == 0 and getattr(_state, "pending", False):
            _state.pending = False
            raise KeyboardInterrupt


def interrupt() -> None:
    """Raise KeyboardInterrupt now, or at the end of the current :func:`spawning` block."""
    if _depth():
        _state.pending = True
        return
    raise KeyboardInterrupt
