"""The offline mocks load a dynamic provider apart from the live class, as the engine's
host (another process) does."""

from __future__ import annotations

import base64
import sys
import threading

import dill
import pytest

import infra.build.provider as build_provider
from infra.iam.propagation import GrantPropagationProvider
from infra.offline.mocks import load_apart
from tests.infra.dynamic_host.cases import pickled


@pytest.mark.parametrize(
    "provider",
    [build_provider.ImageBuildProvider(), GrantPropagationProvider()],
    ids=lambda p: type(p).__name__,
)
def test_loading_a_by_value_provider_leaves_the_live_class_alone(provider: object) -> None:
    live = type(provider)
    serialized = pickled(provider)  # pickling caches __slotnames__ on the class first
    methods = dict(vars(live))
    loaded = load_apart(serialized)
    assert type(loaded).__qualname__ == live.__qualname__
    assert type(loaded) is not live
    assert dict(vars(live)) == methods


def test_a_plain_load_in_the_same_process_would_rewrite_the_live_class() -> None:
    """Why load_apart exists: cloudpickle finds the live class by its tracking id and sets
    the pickled methods on it (a patch of the module would then no longer reach them)."""
    live = build_provider.ImageBuildProvider
    check = live.__dict__["check"]
    try:
        dill.loads(base64.b64decode(pickled(live())))
        assert live.__dict__["check"] is not check
    finally:
        live.check = check  # type: ignore[method-assign]


def test_loads_from_many_threads_at_once_neither_fail_nor_lose_the_tracker() -> None:
    """The mock monitor registers resources from a pool of threads, so loads overlap (a CI
    run failed with ``KeyError`` in the tracker's copy). Every load succeeds, and the
    tracker keeps every class it had."""
    from cloudpickle import cloudpickle as tracker

    serialized = [pickled(build_provider.ImageBuildProvider()), pickled(GrantPropagationProvider())]
    before = set(dict(tracker._DYNAMIC_CLASS_TRACKER_BY_ID.items()))
    errors: list[BaseException] = []

    def load_many(one: str) -> None:
        try:
            for _ in range(40):
                load_apart(one)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, as a busy machine does
    try:
        threads = [threading.Thread(target=load_many, args=(serialized[n % 2],)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert before <= set(dict(tracker._DYNAMIC_CLASS_TRACKER_BY_ID.items()))
