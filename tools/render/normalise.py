"""Make registered inputs deterministic and safe to commit.

- protobuf turns every number into a float: ``5.0`` becomes ``5``;
- secret values (rpc secret wrappers) become ``"[secret]"``;
- unknown values (a preview-mode render: what the cloud has not computed yet, whether the
  SDK hands it over as ``pulumi.output.Unknown`` or as the ``rpc.UNKNOWN`` sentinel)
  become ``"[unknown]"``;
- assets and archives become their kind and a content hash (plus a repo-relative path),
  never an absolute path; a zip's hash covers its entries, not its compressed bytes;
- any other string holding an absolute path under the repository is made repo-relative;
- a dynamic resource's serialized provider (``__provider``, a base64 pickle) becomes a
  readable marker naming the provider class: ``[dynamic provider module.Class]``.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from pathlib import Path
from typing import Any

from pulumi import asset
from pulumi.output import Unknown
from pulumi.runtime import rpc

from infra.build import by_value

SECRET = "[secret]"
UNKNOWN = "[unknown]"
DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
PROVIDER_KEY = "__provider"


def registration_inputs(resource_type: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A registration's inputs with a dynamic resource's provider replaced by its marker."""
    if not resource_type.startswith(DYNAMIC_TYPE_PREFIX) or PROVIDER_KEY not in inputs:
        return inputs
    return inputs | {PROVIDER_KEY: provider_marker(inputs[PROVIDER_KEY])}


def provider_marker(serialized: Any) -> str:
    """``[dynamic provider infra.build.provider.ImageBuildProvider]``: the class the pickle
    names first, read from its opcodes (never unpickled, so no code runs); for a provider
    pickled by value (infra/build/by_value.py) the class its payload carries."""
    if rpc.is_rpc_secret(serialized):
        serialized = rpc.unwrap_rpc_secret(serialized)
    named = by_value.first_global(serialized)  # a provider pickled by reference
    name = by_value.pickled_class(serialized) or (".".join(named) if named else None)
    return f"[dynamic provider {name}]" if name else "[dynamic provider]"


def normalise(value: Any, root: Path) -> Any:  # noqa: PLR0911 - one return per kind
    """A JSON-ready, machine-independent copy of one input value."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return _string(value, root)
    if isinstance(value, asset.Asset | asset.Archive):
        return _asset(value, root)
    if isinstance(value, dict):
        return {str(k): normalise(v, root) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [normalise(item, root) for item in value]
    return _string(str(value), root)


def _string(value: str, root: Path) -> str:
    if value == rpc.UNKNOWN:
        return UNKNOWN
    prefix = f"{root}/"
    return value.replace(prefix, "") if prefix in value else value


def _file_digest(path: Path) -> str:
    """sha256 of a file's content; for a zip, of its entries (names and uncompressed bytes),
    so the digest does not depend on the zlib build that compressed it."""
    digest = hashlib.sha256()
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                digest.update(name.encode() + b"\0")
                digest.update(archive.read(name))
        return digest.hexdigest()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(child.read_bytes())
    elif path.is_file():
        digest.update(path.read_bytes())
    else:
        return "missing"
    return digest.hexdigest()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _asset(value: asset.Asset | asset.Archive, root: Path) -> dict[str, Any]:
    if isinstance(value, asset.FileAsset | asset.FileArchive):
        path = Path(str(value.path))
        kind = "file" if isinstance(value, asset.FileAsset) else "fileArchive"
        return {"$asset": kind, "path": _relative(path, root), "sha256": _file_digest(path)}
    if isinstance(value, asset.StringAsset):
        text = str(value.text)
        return {"$asset": "string", "sha256": hashlib.sha256(text.encode()).hexdigest()}
    if isinstance(value, asset.RemoteAsset | asset.RemoteArchive):
        return {"$asset": "remote", "uri": str(value.uri)}
    if isinstance(value, asset.AssetArchive):
        return {
            "$asset": "archive",
            "assets": {k: normalise(v, root) for k, v in sorted(value.assets.items())},
        }
    return {"$asset": type(value).__name__}
