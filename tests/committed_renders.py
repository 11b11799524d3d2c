"""The committed stacks, each run once per test process and shared by every test module.

A run is the real program over ``Pulumi.<stack>.yaml`` and ``functions/`` as committed: no
override, no other mocks, nothing monkeypatched. One costs about a second of Pulumi
registration, and a dozen modules read the same six (three stacks, update and preview), so
they share them. What these return is shared: read it, and deep-copy it before editing.

A test that patches the program, overrides a setting or checks that two runs agree calls
``run_stack`` (or ``render_stack``) itself.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from infra.offline.harness import Run, run_stack
from tools.render.manifest import manifest_json, manifest_of_run

Manifest = dict[str, Any]


@cache
def committed_run(stack: str, preview: bool = False) -> Run:
    """What the program registers and reads for ``stack`` (as a first ``pulumi preview``
    runs it when ``preview``)."""
    return run_stack(stack, preview=preview)


@cache
def committed_manifest(stack: str, preview: bool = False) -> Manifest:
    """The render of :func:`committed_run`, round-tripped through JSON so it compares like
    a committed one."""
    return json.loads(manifest_json(manifest_of_run(committed_run(stack, preview), stack)))
