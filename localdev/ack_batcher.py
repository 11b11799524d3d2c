"""Acknowledgements sent in batches, as the official client's streaming pull sends them.

Every ack is an RPC the Pub/Sub emulator (a JVM on the same cores) must serve; sending
one per message made the emulator the busiest process of a local burst. The official
subscriber client batches acks (up to 2,500 ids a request, flushed within ~0.1 s); this
does the same for the platform's delivery loops, with a shorter wait, since the caller
waits for its batch: :meth:`AckBatcher.ack` returns once the request holding its id has
been answered (or raises its error), so "acked" is traced only after the emulator has the
ack, as before.

A batch is sent when ``MAX_ACK_IDS`` ids are waiting, or ``FLUSH_SECONDS`` after the first
of them arrived, whichever is first; :meth:`close` sends what is left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

MAX_ACK_IDS = 2500
"""Pub/Sub's own limit of ack ids in one request (the client library's batch size)."""
FLUSH_SECONDS = 0.01
"""The longest an ack waits for others to share its request."""

Send = Callable[[list[str]], None]


class AckBatcher:
    """Collects ack ids from many delivery threads; one thread sends them in batches."""

    def __init__(self, send: Send, name: str, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._send = send
        self._flush_seconds = flush_seconds
        self._lock = threading.Condition()
        self._waiting: list[tuple[str, Future[None]]] = []
        self._first_at = 0.0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"ack-{name}", daemon=True)
        self._thread.start()

    def ack(self, ack_id: str) -> None:
        """Acknowledge ``ack_id``; returns when its batch is answered, raises its error."""
        done: Future[None] = Future()
        with self._lock:
            closed = self._closed
            if not closed:
                if not self._waiting:
                    self._first_at = time.monotonic()
                self._waiting.append((ack_id, done))
                self._lock.notify()
        if closed:
            self._send([ack_id])
            return
        done.result()

    def close(self) -> None:
        """Send what is waiting, then stop; later acks are sent one by one."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join()

    def _next_batch(self) -> list[tuple[str, Future[None]]]:
        with self._lock:
            while True:
                if self._waiting:
                    due = self._first_at + self._flush_seconds - time.monotonic()
                    if self._closed or len(self._waiting) >= MAX_ACK_IDS or due <= 0:
                        batch = self._waiting[:MAX_ACK_IDS]
                        del self._waiting[:MAX_ACK_IDS]
                        self._first_at = time.monotonic()
                        return batch
                    self._lock.wait(due)
                elif self._closed:
                    return []
                else:
                    self._lock.wait()

    def _run(self) -> None:
        while batch := self._next_batch():
            try:
                self._send([ack_id for ack_id, _ in batch])
            except Exception as error:  # each waiting delivery sees its request's error
                for _, done in batch:
                    done.set_exception(error)
                continue
            for _, done in batch:
                done.set_result(None)
