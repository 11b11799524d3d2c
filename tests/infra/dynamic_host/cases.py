"""Which dynamic providers the harness knows, and how each is driven.

Every dynamic provider the program registers needs an entry in :data:`CASES`, keyed by
the class its pickle names (what the offline render shows as ``[dynamic provider
<module>.<Class>]``); ``test_every_dynamic_provider`` fails for a provider without one.
An entry gives:

- ``outputs``: the names the resource declares as outputs (``None`` at registration, not
  inputs: left out of what the engine sends to Check);
- ``lifecycle(host, world)``: one full life against the provider's local fakes through
  the real host: Check, Create, an unchanged second ``up`` (Diff: no change), the change
  that replaces it, an Update, a refresh (Read) of it present and gone, a Delete. It
  must call every verb (:data:`host.VERBS`), or the harness fails it;
- ``world``: a context manager for the fakes the lifecycle talks to.

The preview cases (every input unknown in turn, then all at once; Diff against a stored
state with each input unknown) are generic: they run for every dynamic resource of the
render with the provider exactly as the program pickled it.

Adding a provider (say an IAM-propagation wait): write its ``lifecycle`` and ``world`` in
a module next to this one and add one line to :data:`CASES`.
"""

from __future__ import annotations

import copyreg
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime._serialization import _serialize

from infra.offline.harness import REPO_ROOT, pickler_restored
from tests.infra.dynamic_host.host import DynamicHost


@dataclass(frozen=True)
class ProviderCases:
    outputs: tuple[str, ...]
    world: Callable[[], AbstractContextManager[Any]]
    lifecycle: Callable[[DynamicHost, Any], None]
    stored_outputs: Callable[[], dict[str, Any]]
    """Outputs of a created resource (for the preview Diff against a stored state)."""


def pickled(provider: ResourceProvider) -> str:
    """``__provider`` exactly as ``pulumi.dynamic.Resource.__init__`` stores it."""
    with pickler_restored():
        serialized, _ = _serialize(True, serialize_provider, provider)
    return serialized


def pickled_by_another_run(setup: str, provider: str) -> str:
    """``__provider`` as another program run pickles it (another process: cloudpickle's
    class tracking ids differ, so the bytes do): ``setup`` imports, ``provider`` is the
    expression building the provider."""
    script = (
        f"{setup}\nfrom tests.infra.dynamic_host.cases import pickled\nprint(pickled({provider}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def pickled_by_reference(provider: ResourceProvider) -> str:
    """``__provider`` as a stack stored it before providers were pickled by value
    (``serialize_provider`` without the class's copyreg reducer: dill names the class)."""
    reducer = copyreg.dispatch_table.pop(type(provider), None)
    try:
        return pickled(provider)
    finally:
        if reducer is not None:
            copyreg.dispatch_table[type(provider)] = reducer


def _cases() -> dict[str, ProviderCases]:
    from tests.infra.dynamic_host import grant_propagation, image_build

    return {
        "infra.build.provider.ImageBuildProvider": image_build.CASES,
        "infra.iam.propagation.GrantPropagationProvider": grant_propagation.CASES,
    }


CASES: dict[str, ProviderCases] = _cases()
