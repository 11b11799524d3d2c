"""The cached clients: each built once per key, even under concurrent first use."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from switchboard_runtime import clients


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clients.reset()
    yield
    clients.reset()


def test_concurrent_first_use_builds_once() -> None:
    builds: list[object] = []

    def build() -> object:
        time.sleep(0.2)  # a slow SDK import / client creation
        builds.append(object())
        return builds[-1]

    got: list[object] = []
    threads = [
        threading.Thread(target=lambda: got.append(clients.cached(("probe", "a"), build)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert got == [builds[0]] * 8


def test_a_slow_build_does_not_hold_up_another_key() -> None:
    release = threading.Event()
    slow = threading.Thread(
        target=lambda: clients.cached(("probe", "slow"), lambda: release.wait(10) and "slow")
    )
    slow.start()
    try:
        started = time.monotonic()
        assert clients.cached(("probe", "fast"), lambda: "fast") == "fast"
        assert time.monotonic() - started < 5
    finally:
        release.set()
        slow.join()
    assert clients.cached(("probe", "slow"), lambda: "rebuilt") == "slow"


def test_a_failed_build_is_not_cached() -> None:
    def broken() -> object:
        raise RuntimeError("no credentials")

    with pytest.raises(RuntimeError):
        clients.cached(("probe", "b"), broken)
    assert clients.cached(("probe", "b"), lambda: "ok") == "ok"


def test_firestore_client_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-clients")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "localhost:1")  # built lazily: no server
    first = clients.firestore_client()
    assert clients.firestore_client() is first
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-other")
    assert clients.firestore_client() is not first
