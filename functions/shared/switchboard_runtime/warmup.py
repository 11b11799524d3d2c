"""Warm an instance at start-up, in the background, so its first request finds it loaded.

Importing an agent's ``main`` stays cheap (nothing heavy is imported then: that is the
cold start the platform waits for before it routes traffic). Constructing the
:class:`~switchboard_runtime.Agent` starts one daemon thread per process that imports
the runtime's deferred modules (pydantic and the event models, Firestore, Pub/Sub,
tenacity) and builds the cached clients of ``clients.py``, then runs the agent's own
preload steps (its third-party SDK client). A request that arrives first does not wait
for the warm-up as a whole: it asks for the same cached objects, and waits only for the
one being built at that moment (per-key locks in ``clients.py``; Python's import lock for
a module being imported), so nothing is done twice.

A failing step is logged at DEBUG and skipped: the request that needs it builds it again
and reports the error as it always did. ``SWITCHBOARD_PRELOAD=off`` turns warming off.

On Cloud Run with request-based billing the CPU outside requests is throttled once the
instance listens, so there the warm-up gets the start-up window (and start-up CPU boost)
and then continues during the first request; instances with instance-based billing (what
``min_instances`` keeps warm) finish it before traffic.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from switchboard_runtime import logging as slog

Step = Callable[[], Any]
DISABLED = {"0", "off", "false", "no"}

_lock = threading.Lock()
_started: dict[str, Warmup] = {}  # the process's one warm-up, under "process"


def _import_runtime() -> None:
    import google.api_core.exceptions  # noqa: F401 - errors.classify and the claims
    import tenacity  # noqa: F401 - retry.call_with_retry

    from switchboard_runtime import events, idempotency, publisher, retry  # noqa: F401


def _firestore() -> None:
    from switchboard_runtime.clients import firestore_client

    client = firestore_client()
    client._firestore_api  # noqa: B018 - builds the GAPIC client and its gRPC channel


def _publisher() -> None:
    from switchboard_runtime.clients import publisher_client

    publisher_client()


RUNTIME_STEPS: tuple[Step, ...] = (_import_runtime, _firestore, _publisher)
"""What every Agent loads on its first message: models, Firestore claims, publishing."""
PUBLISHING_STEPS: tuple[Step, ...] = (_import_runtime, _publisher)
"""What an entry point that only publishes (the gateway: no Firestore) loads."""


class Warmup:
    """Runs ``steps`` in order on a daemon thread; ``wait()`` for tests and benchmarks."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(steps)
        self.failed: list[str] = []
        self.seconds = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="switchboard-warmup", daemon=True)

    def start(self) -> Warmup:
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            for step in self.steps:
                try:
                    step()
                except Exception as exc:  # the request that needs it reports it
                    name = getattr(step, "__qualname__", repr(step))
                    self.failed.append(f"{name}: {type(exc).__name__}: {exc}")
                    slog.get_logger().debug(f"warm-up step {name} failed: {exc}")
        finally:
            self.seconds = time.perf_counter() - started
            self._done.set()


def enabled() -> bool:
    return os.environ.get("SWITCHBOARD_PRELOAD", "on").strip().lower() not in DISABLED


def start(extra: Sequence[Step] = (), runtime: Sequence[Step] = RUNTIME_STEPS) -> Warmup | None:
    """Start this process's warm-up (``runtime`` steps, then ``extra``) once; later calls
    return the one already started. None when ``SWITCHBOARD_PRELOAD`` turns it off."""
    if not enabled():
        return None
    with _lock:
        if "process" not in _started:
            _started["process"] = Warmup((*runtime, *extra)).start()
        return _started["process"]
