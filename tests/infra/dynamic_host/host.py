"""The engine's Python dynamic-provider host, driven as the engine drives it.

:class:`DynamicHost` starts ``python -m pulumi.dynamic`` (what the engine's
``pulumi-resource-pulumi-python`` shim runs, with the program's virtualenv) as a real
subprocess in a chosen working directory, reads the port it prints on its first stdout
line, and calls it over gRPC with ``pulumi.runtime.proto`` (``provider_pb2``,
``provider_pb2_grpc``): Configure, Check, Diff, Create, Read, Update, Delete.

Properties go over the wire as the engine marshals them (``sdk/go/common/resource/plugin/
rpc.go``): plain protobuf struct values, and a value the engine does not know yet as the
string sentinel ``UnknownStringValue`` (:data:`ENGINE_UNKNOWN`). The host itself decides
what the provider sees (``pulumi/dynamic/__main__.py``: ``Check`` and ``Diff`` deserialise
with ``keep_unknowns=True``, which turns the sentinel into ``pulumi.output.Unknown``).

Nothing of the program's path leaks in: the subprocess gets no ``PYTHONPATH``, so from a
directory other than the repository root ``infra`` is importable only if the pickled
provider carries its own code.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""``UnknownStringValue`` in the engine (sdk/go/common/resource/plugin/rpc.go): how a
computed value (another resource's output in a preview) is sent to a provider."""
PROVIDER_KEY = "__provider"
START_TIMEOUT = 60.0
CALL_TIMEOUT = 120.0
VERBS = ("Configure", "Check", "Diff", "Create", "Read", "Update", "Delete")


class Unknown:
    """Marks an input the engine does not know yet (sent as :data:`ENGINE_UNKNOWN`)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = Unknown()


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """A property map as the engine marshals it (unknowns as the string sentinel)."""
    struct = struct_pb2.Struct()
    struct.update({key: _wire(value) for key, value in props.items()})
    return struct


def _wire(value: Any) -> Any:
    if isinstance(value, Unknown):
        return ENGINE_UNKNOWN
    if isinstance(value, Mapping):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """What the engine reads back (numbers stay floats, as in protobuf)."""
    return {
        key: (Unknown() if value == ENGINE_UNKNOWN else value)
        for key, value in _plain(struct).items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, struct_pb2.Struct):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(v) for v in value]
    return value


class HostError(RuntimeError):
    """The host answered a call with an error (its traceback is the message)."""

    def __init__(self, verb: str, error: grpc.RpcError) -> None:
        super().__init__(f"{verb}: {error.code().name}: {error.details()}")
        self.verb = verb
        self.details = error.details() or ""


@dataclass
class DynamicHost:
    """One running host; ``called`` records every verb answered without error."""

    process: subprocess.Popen[bytes]
    stub: provider_pb2_grpc.ResourceProviderStub
    channel: grpc.Channel
    cwd: Path
    called: list[str] = field(default_factory=list)

    def _call(self, verb: str, request: Any) -> Any:
        try:
            response = getattr(self.stub, verb)(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as error:
            raise HostError(verb, error) from None
        self.called.append(verb)
        return response

    def configure(self) -> provider_pb2.ConfigureResponse:
        return self._call(
            "Configure",
            provider_pb2.ConfigureRequest(
                variables={}, args=struct_pb2.Struct(), acceptSecrets=True, acceptResources=True
            ),
        )

    def check(
        self, urn: str, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None
    ) -> provider_pb2.CheckResponse:
        return self._call(
            "Check",
            provider_pb2.CheckRequest(
                urn=urn, olds=to_struct(olds or {}), news=to_struct(news), randomSeed=b"\0" * 32
            ),
        )

    def diff(
        self,
        urn: str,
        id_: str,
        old_outputs: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> provider_pb2.DiffResponse:
        return self._call(
            "Diff",
            provider_pb2.DiffRequest(
                id=id_,
                urn=urn,
                olds=to_struct(old_outputs),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs),
            ),
        )

    def create(self, urn: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call(
            "Create",
            provider_pb2.CreateRequest(urn=urn, properties=to_struct(inputs), timeout=600),
        )
        return response.id, from_struct(response.properties)

    def read(
        self, urn: str, id_: str, outputs: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        response = self._call(
            "Read",
            provider_pb2.ReadRequest(
                id=id_, urn=urn, properties=to_struct(outputs), inputs=to_struct(inputs)
            ),
        )
        return response.id, from_struct(response.properties)

    def update(
        self,
        urn: str,
        id_: str,
        old_outputs: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> dict[str, Any]:
        response = self._call(
            "Update",
            provider_pb2.UpdateRequest(
                id=id_,
                urn=urn,
                olds=to_struct(old_outputs),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs),
                timeout=600,
            ),
        )
        return from_struct(response.properties)

    def delete(
        self, urn: str, id_: str, outputs: Mapping[str, Any], old_inputs: Mapping[str, Any]
    ) -> None:
        self._call(
            "Delete",
            provider_pb2.DeleteRequest(
                id=id_,
                urn=urn,
                properties=to_struct(outputs),
                old_inputs=to_struct(old_inputs),
                timeout=600,
            ),
        )


WITHOUT_THE_PROJECT = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
    "getattr(f, '__module__', '')]; "
    "runpy.run_module('pulumi.dynamic', run_name='__main__')"
)
"""``python -m pulumi.dynamic`` as on a host where the project is not installed: the dev
venv's editable install (its import finder) is taken out, so only what the provider's
pickle carries, and the working directory, can be imported."""


def host_environment() -> dict[str, str]:
    """The caller's environment without anything that would put the repository on the
    host's import path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}


@contextmanager
def dynamic_host(cwd: Path, python: str = sys.executable) -> Iterator[DynamicHost]:
    """Start ``python -m pulumi.dynamic`` in ``cwd``, yield it configured-less; stop it."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty host never blocks
        yield from _hosted(cwd, python, errors)


def _hosted(cwd: Path, python: str, errors: IO[bytes]) -> Iterator[DynamicHost]:
    process = subprocess.Popen(
        [python, "-u", "-c", WITHOUT_THE_PROJECT],
        cwd=cwd,
        env=host_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=errors,
    )
    channel = None
    try:
        port = _read_port(process, errors)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        yield DynamicHost(process, provider_pb2_grpc.ResourceProviderStub(channel), channel, cwd)
    finally:
        if channel is not None:
            channel.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _read_port(process: subprocess.Popen[bytes], errors: IO[bytes]) -> int:
    """The first stdout line is the port (``main`` in pulumi/dynamic/__main__.py)."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([process.stdout], [], [], max(remaining, 0))
        if not ready:
            raise RuntimeError(f"the host printed no port within {START_TIMEOUT:.0f}s")
        chunk = os.read(process.stdout.fileno(), 64)
        if not chunk:
            process.wait(timeout=10)
            errors.seek(0)
            error = errors.read().decode(errors="replace")
            raise RuntimeError(f"the host exited before printing its port: {error[-2000:]}")
        line += chunk
    return int(line.strip())
