"""Pickling a dynamic provider by value, so the engine's host loads it from any directory.

``pulumi.dynamic.Resource`` pickles its provider with dill (``serialize_provider`` in
``pulumi/dynamic/dynamic.py``); dill names a class defined in an importable module by
reference (``infra.build.provider.ImageBuildProvider``). The engine's host,
``python -m pulumi.dynamic`` (``pulumi/dynamic/__main__.py``, ``get_provider``), unpickles
it with ``dill.loads``: started anywhere but the repository root it fails with ``No module
named 'infra'``, and moving or renaming the class breaks refresh and destroy of every
stack that stored the old name (pulumi/pulumi#7453).

So :func:`by_value` registers a provider class with ``copyreg`` (consulted by dill's and
cloudpickle's picklers before ``__reduce_ex__``) to pickle as ``pickle.loads(<payload>)``,
where the payload is a cloudpickle of the instance with the class's top-level package
(``infra``) registered by value (``cloudpickle.register_pickle_by_value``): the code of the
provider and of every module of that package it uses travels in the pickle; only
installed packages (pulumi, cloudpickle, the Google clients) are named by reference. The
reducer is not part of the class, so it does not travel.

What this means for a stack:

- the host needs no ``infra`` on its path, and the class can move: a stored provider
  carries its own code;
- delete and refresh run the code stored with the resource (its outputs' ``__provider``),
  create/update/check/diff the program's current code, as Pulumi's dynamic providers do;
- the payload differs between runs (cloudpickle tags each class with a random tracking
  id), so a provider's ``diff`` must not compare ``__provider``;
- a resource stored before this change holds a by-reference pickle: :func:`is_by_value`
  tells the two apart so ``diff`` can report an update (never a replacement) that stores
  the by-value pickle once. Until then the old name must stay importable from the
  repository root, which it does (``infra.build.provider.ImageBuildProvider``).
"""

from __future__ import annotations

import base64
import binascii
import copyreg
import pickle
import pickletools
import sys
import threading
from typing import Any, TypeVar

import cloudpickle

PROTOCOL = pickle.DEFAULT_PROTOCOL
"""What ``serialize_provider`` uses for the outer pickle."""
ENVELOPE = ("_pickle", "loads")
"""The global a by-value provider's pickle starts with: ``pickle.loads`` of the payload."""
MAX_SERIALIZED = 4 << 20
PROVIDER_KEY = "__provider"
"""Where ``pulumi.dynamic.Resource`` stores the pickled provider in inputs and outputs."""

_inside = threading.local()
_C = TypeVar("_C", bound=type)


def by_value(cls: _C) -> _C:
    """Class decorator: instances of ``cls`` pickle by value (see the module docstring)."""
    # The top-level package (``infra``), not only the provider's own: a provider's code
    # may use any module of the program (infra/build/outcome.py names a runbook from
    # infra/monitoring), and a module named by reference is what the host cannot import.
    package = sys.modules[cls.__module__.split(".", 1)[0]]
    if package.__name__ not in cloudpickle.list_registry_pickle_by_value():
        cloudpickle.register_pickle_by_value(package)
    copyreg.pickle(cls, _reduce)
    return cls


def _reduce(provider: object) -> tuple[Any, ...]:
    """At the outer level ``pickle.loads(payload)``; inside the payload the instance's own
    reduction (its class travels by value there)."""
    if getattr(_inside, "active", False):
        return provider.__reduce_ex__(PROTOCOL)
    _inside.active = True
    try:
        payload = cloudpickle.dumps(provider, protocol=PROTOCOL)
    finally:
        _inside.active = False
    return (pickle.loads, (payload,))


def is_by_value(serialized: Any) -> bool:
    """Whether a stored ``__provider`` (base64 of dill's pickle) is a by-value provider:
    read from its opcodes, never unpickled."""
    return first_global(serialized) == ENVELOPE


def first_global(serialized: Any) -> tuple[str, str] | None:
    """The first global (module, name) a base64 pickle names, or None if unreadable."""
    if not isinstance(serialized, str) or len(serialized) > MAX_SERIALIZED:
        return None
    try:
        data = base64.b64decode(serialized, validate=True)
        strings: list[str] = []
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                return strings[-2], strings[-1]
            if opcode.name == "GLOBAL" and isinstance(arg, str):
                module, _, name = arg.partition(" ")
                return module, name
            if isinstance(arg, str):
                strings.append(arg)
    except (binascii.Error, ValueError):
        return None
    return None


SKELETON = ("cloudpickle.cloudpickle", "_make_skeleton_class")


def pickled_class(serialized: Any) -> str | None:
    """``module.Class`` of the provider a by-value pickle holds (read from the opcodes of
    its cloudpickle payload, never unpickled), or None if it is not one."""
    if not is_by_value(serialized):
        return None
    try:
        data = base64.b64decode(serialized, validate=True)
        payload = next(
            (a for _, a, _ in pickletools.genops(data) if isinstance(a, bytes | bytearray)), b""
        )
        return _skeleton_class(bytes(payload))
    except (binascii.Error, ValueError):
        return None


def _skeleton_class(payload: bytes) -> str | None:
    """cloudpickle writes a by-value class as ``_make_skeleton_class(type, name, bases,
    {"__module__": module}, tracker, None)``: the first such call is the provider's class."""
    strings: list[str] = []
    after: list[str] | None = None
    globals_after = 0
    for opcode, arg, _ in pickletools.genops(payload):
        if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            if after is None and (strings[-2], strings[-1]) == SKELETON:
                after = []
            elif after is not None:
                globals_after += 1
                after = after[:-2] if globals_after > 1 else []
            continue
        if isinstance(arg, str):
            strings.append(arg)
            if after is not None:
                after.append(arg)
                if len(after) >= 2 and after[-2] == "__module__" and globals_after >= 1:
                    name = after[0]
                    return f"{arg}.{name}"
    return None
