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

Forking servers: the ``functions-framework`` command (what Cloud Functions runs) imports
``main`` in gunicorn's master and then forks the worker that serves. Threads do not cross
a fork, a module half-imported by one would be half-imported in the worker, and gRPC
channels must not be created before a fork. So: a fork waits for the step under way to
finish (no half-imported module crosses it); the master stops warming; the worker starts
the warm-up again (the finished imports are already there). Steps that build clients
(``CLIENT_STEPS``) are never run in a process that the framework is going to fork.

On Cloud Run with request-based billing the CPU outside requests is throttled once the
instance listens, so there the warm-up gets the start-up window (and start-up CPU boost)
and then continues during the first request; instances with instance-based billing (what
``min_instances`` keeps warm) finish it before traffic.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from switchboard_runtime import logging as slog

Step = Callable[[], Any]
DISABLED = {"0", "off", "false", "no"}

_lock = threading.Lock()
_started: dict[str, Warmup] = {}  # the process's one warm-up, under "process"


def _import_runtime() -> None:
    import google.api_core.exceptions  # noqa: F401 - errors.classify and the claims
    import tenacity  # noqa: F401 - retry.call_with_retry

    from switchboard_runtime import events, idempotency, publisher, retry, write_encoding  # noqa: F401


def _firestore() -> None:  # a client step
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
CLIENT_STEPS = frozenset({_firestore, _publisher})
"""Steps that open gRPC channels: never before a fork."""


def forked_server_master() -> bool:
    """Whether this process is the ``functions-framework`` command about to serve from a
    forked gunicorn worker (it does unless ``--debug``/``DEBUG`` picks Flask's server)."""
    command = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    framework = command == "functions-framework" or sys.argv[0].endswith(
        os.path.join("functions_framework", "__main__.py")
    )
    debug = "--debug" in sys.argv or os.environ.get("DEBUG", "").lower() in {"1", "true"}
    return framework and not debug and sys.platform != "win32"


class Warmup:
    """Runs ``steps`` in order on a daemon thread; ``wait()`` for tests and benchmarks."""

    def __init__(
        self, steps: Sequence[Step], *, clients: bool = True, after_import: str | None = None
    ) -> None:
        self.steps = tuple(steps)
        self.after_import = after_import  # the entry module whose import must finish first
        self.clients = clients  # False: skip CLIENT_STEPS (a process about to fork)
        self.failed: list[str] = []
        self.seconds = 0.0
        self.stopped = False
        self.step_lock = threading.Lock()  # held during each step; a fork waits for it
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="switchboard-warmup", daemon=True)

    def start(self) -> Warmup:
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _run(self) -> None:
        _wait_imported(self.after_import)
        started = time.perf_counter()
        try:
            for step in self.steps:
                if not self.clients and step in CLIENT_STEPS:
                    continue
                with self.step_lock:
                    if self.stopped:
                        return
                    self._step(step)
        finally:
            self.seconds = time.perf_counter() - started
            self._done.set()

    def _step(self, step: Step) -> None:
        try:
            step()
        except Exception as exc:  # the request that needs it reports it
            name = getattr(step, "__qualname__", repr(step))
            self.failed.append(f"{name}: {type(exc).__name__}: {exc}")
            slog.get_logger().debug(f"warm-up step {name} failed: {exc}")


def _wait_imported(name: str | None, limit: float = 30.0) -> None:
    """Wait (sleeping, so the importer has the GIL) until module ``name`` has finished
    importing: the warm-up must not slow the entry module's own import down."""
    module = sys.modules.get(name or "")
    spec = getattr(module, "__spec__", None)
    deadline = time.monotonic() + limit
    while getattr(spec, "_initializing", False) and time.monotonic() < deadline:
        time.sleep(0.002)


def enabled() -> bool:
    return os.environ.get("SWITCHBOARD_PRELOAD", "on").strip().lower() not in DISABLED


def start(
    extra: Sequence[Step] = (),
    runtime: Sequence[Step] = RUNTIME_STEPS,
    *,
    after_import: str | None = None,
) -> Warmup | None:
    """Start this process's warm-up (``runtime`` steps, then ``extra``) once, beginning
    when module ``after_import`` (the caller's entry module) has finished importing;
    later calls return the one already started. None when ``SWITCHBOARD_PRELOAD`` turns
    it off."""
    if not enabled():
        return None
    with _lock:
        if "process" not in _started:
            if not _started.get("hooks"):
                os.register_at_fork(
                    before=_before_fork,
                    after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child,
                )
                _started["hooks"] = True  # type: ignore[assignment]
            steps = (*runtime, *extra)
            _started["process"] = Warmup(
                steps, clients=not forked_server_master(), after_import=after_import
            ).start()
        return _started["process"]  # type: ignore[return-value]


def _before_fork() -> None:
    run = _started.get("process")
    if isinstance(run, Warmup):
        run.step_lock.acquire()  # the step under way finishes first


def _after_fork_in_parent() -> None:
    run = _started.get("process")
    if isinstance(run, Warmup):
        run.stopped = True  # the forked worker serves and warms itself
        run.step_lock.release()


def _after_fork_in_child() -> None:
    """The worker: the parent's thread is gone; warm again (clients included)."""
    global _lock  # noqa: PLW0603 - a lock held at fork time is unusable in the child
    _lock = threading.Lock()
    run = _started.pop("process", None)
    if isinstance(run, Warmup):
        from switchboard_runtime import clients

        clients.reset_after_fork()  # a parent's gRPC channel is unusable here
        _started["process"] = Warmup(run.steps).start()
