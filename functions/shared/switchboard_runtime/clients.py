"""Lazy, cached Google Cloud clients.

Nothing heavy is imported at module import time (cold start): each client's library is
imported on first use and the client cached per (project, database, emulator host), so
a warm instance reuses its channels and tests may switch projects.

Each client is built at most once per key, even when the start-up warm-up
(``warmup.py``) and a first request ask for it at the same moment: the second caller
waits on that key's lock for the build under way, and a client of another key is not
held up by it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from switchboard_contract.environment import (
    DEFAULT_FIRESTORE_DATABASE,
    FIRESTORE_DATABASE,
    GOOGLE_CLOUD_PROJECT,
)

if TYPE_CHECKING:
    from google.cloud import firestore, pubsub_v1

_lock = threading.Lock()  # guards _cache and _building, never held during a build
_cache: dict[tuple[str, ...], Any] = {}
_building: dict[tuple[str, ...], threading.Lock] = {}


def cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """The client cached under ``key``, built by ``build()`` once (per-key lock)."""
    with _lock:
        client = _cache.get(key)
        if client is not None:
            return client
        key_lock = _building.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            client = _cache.get(key)
        if client is None:
            client = build()
            with _lock:
                _cache[key] = client
        return client


def project_id() -> str:
    project = os.environ.get(GOOGLE_CLOUD_PROJECT) or os.environ.get("GCP_PROJECT")
    if not project:
        raise RuntimeError(f"{GOOGLE_CLOUD_PROJECT} is not set")
    return project


def database_id() -> str:
    return os.environ.get(FIRESTORE_DATABASE) or DEFAULT_FIRESTORE_DATABASE


def firestore_client() -> firestore.Client:
    key = ("firestore", project_id(), database_id(), os.environ.get("FIRESTORE_EMULATOR_HOST", ""))

    def build() -> firestore.Client:
        from google.cloud import firestore

        return firestore.Client(project=key[1], database=key[2])

    return cached(key, build)


def publisher_client() -> pubsub_v1.PublisherClient:
    key = ("publisher", os.environ.get("PUBSUB_EMULATOR_HOST", ""))

    def build() -> pubsub_v1.PublisherClient:
        from google.cloud import pubsub_v1

        # Publish one message at a time, at once: handlers wait on each publish.
        return pubsub_v1.PublisherClient(
            batch_settings=pubsub_v1.types.BatchSettings(max_messages=1, max_latency=0.0)
        )

    return cached(key, build)


def topic_path(topic_id: str) -> str:
    return f"projects/{project_id()}/topics/{topic_id}"


def reset() -> None:
    """Forget every cached client (tests)."""
    with _lock:
        _cache.clear()
        _building.clear()


def reset_after_fork() -> None:
    """In a forked child: new locks (one may have been held at fork time), no clients."""
    global _lock  # noqa: PLW0603 - the parent's lock object is unusable after fork
    _lock = threading.Lock()
    _cache.clear()
    _building.clear()
