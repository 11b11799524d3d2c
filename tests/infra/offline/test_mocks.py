"""The offline mocks load a dynamic provider apart from the live class, as the engine's
host (another process) does."""

from __future__ import annotations

import base64

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
