"""Run the real Pulumi program under mocks, with a stack's configuration, offline.

Used by the unit tests and the offline render. No Pulumi CLI, plugins or credentials.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.deploy_mode import offline
from infra.offline.mocks import GcpMocks, InvokeRecord, RecordingMonitor, Registration
from infra.settings import SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_NAME = "switchboard"


MAX_STACK_FILE_BYTES = 1024 * 1024


def stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml``; a file that is missing or not a
    stack file is a :class:`SettingsError` naming it."""
    path = root / f"Pulumi.{stack}.yaml"
    shown = path.name if path.parent == REPO_ROOT else str(path)
    if not path.is_file():
        raise SettingsError(
            f"{shown}: no such stack file (stacks: dev, staging, prod; "
            f"`pulumi stack init {stack}` creates it)"
        )
    if path.stat().st_size > MAX_STACK_FILE_BYTES:
        raise SettingsError(f"{shown}: larger than {MAX_STACK_FILE_BYTES} bytes")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SettingsError(f"{shown}: not valid YAML:\n{error}") from None
    if not isinstance(document, dict):
        raise SettingsError(f"{shown}: must be a mapping with a config: block")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError(f"{shown}: config: must be a mapping of key: value")
    return dict(config)


OFFLINE_SECRET_PREFIX = "offline-placeholder-"


def is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def offline_secret(ciphertext: str) -> str:
    """What an encrypted config value reads as offline: no key is at hand to decrypt it,
    so a placeholder derived from the ciphertext (already in the committed stack file)
    stands in. A new value has a new ciphertext, so a rotation still shows in the render."""
    digest = hashlib.sha256(ciphertext.encode()).hexdigest()[:16]
    return f"{OFFLINE_SECRET_PREFIX}{digest}"


def engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Config as the engine hands it to a program: structured values as JSON strings,
    encrypted values as offline placeholders (see :func:`offline_secret`)."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if is_encrypted(value):
            flat[key] = offline_secret(str(value["secure"]))
            continue
        flat[key] = value if isinstance(value, str) else json.dumps(value)
    return flat


@contextmanager
def pickler_restored() -> Iterator[None]:
    """Undo what pulumi's ``serialize_provider`` leaves behind in this process.

    Each call wraps ``pickle._Pickler._batch_setitems`` (and replaces ``save_dict``) to
    sort dictionaries, and never restores them (``pulumi/dynamic/dynamic.py``, pulumi
    3.x). A real ``pulumi up`` pickles each dynamic resource once (13 per stack here), so
    the chain of wrappers stays short; a test process renders dozens of times, and after
    about 70 renders pickling a dict nests deeper than Python's recursion limit
    (``RecursionError`` in the next dynamic provider pickled)."""
    batch_setitems = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    save_dict = pickle._Pickler.save_dict  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pickle._Pickler._batch_setitems = batch_setitems  # type: ignore[attr-defined]
        pickle._Pickler.save_dict = save_dict  # type: ignore[attr-defined]


@dataclass
class Run:
    registrations: list[Registration]
    result: Any
    invokes: list[InvokeRecord] = field(default_factory=list)
    """Every Invoke (data source read) the program made, in call order."""
    preview: bool = False

    def of_type(self, token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == token]

    def named(self, name: str, token: str | None = None) -> Registration:
        matches = [
            r for r in self.registrations if r.name == name and (token is None or r.type == token)
        ]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r} (type {token})")
        return matches[0]


def run_under_mocks(
    program: Callable[[], Any],
    *,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: list[str] | None = None,
    mocks: GcpMocks | None = None,
    project: str = PROJECT_NAME,
    preview: bool = False,
    models_real_deploy: bool = False,
) -> Run:
    """Run ``program`` as the body of a Pulumi program and record what it registers.
    ``project`` is the Pulumi project's name (the bootstrap program has its own).
    ``preview``: run as a first ``pulumi preview`` does (``pulumi.runtime.is_dry_run()``
    is true, every computed output unknown; see :mod:`infra.offline.mocks`).

    The run is marked offline (``infra/deploy_mode.py``) unless ``models_real_deploy``:
    with it and ``preview=False`` the program behaves as in a real ``pulumi up`` (it
    refuses example values, ``infra/placeholders.py``); ``preview=True`` models a preview."""
    encrypted = [key for key, value in config.items() if is_encrypted(value)]
    pulumi.runtime.set_all_config(engine_config(config), [*(secret_keys or []), *encrypted])
    mocks = mocks or GcpMocks(preview=preview)
    if getattr(mocks, "preview", False) != preview:
        raise ValueError(f"mocks and run disagree on preview mode (run: preview={preview})")
    monitor = RecordingMonitor(mocks)
    # A fresh root stack per run, as each `pulumi up` has: stack transformations the
    # program registers (infra/project/apis.py) must not outlive the run.
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=preview, monitor=monitor
    )
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    holder: dict[str, Any] = {}

    def body() -> None:
        holder["result"] = program()

    with pickler_restored(), nullcontext() if models_real_deploy else offline():
        _sync_await(run_pulumi_func(body))
    return Run(monitor.registrations, holder.get("result"), monitor.invokes, preview)


def run_stack(
    stack: str,
    root: Path = REPO_ROOT,
    overrides: Mapping[str, Any] | None = None,
    functions_root: Path | None = None,
    mocks: GcpMocks | None = None,
    *,
    preview: bool = False,
) -> Run:
    """Run the real program (``infra.program.run``) with ``Pulumi.<stack>.yaml``;
    ``preview``: as a first ``pulumi preview`` runs it."""
    from infra.catalogue import FUNCTIONS_DIR
    from infra.program import run

    config = stack_config(stack, root)
    config.update(overrides or {})
    root = functions_root or FUNCTIONS_DIR
    return run_under_mocks(
        lambda: run(root), stack=stack, config=config, mocks=mocks, preview=preview
    )
