"""Where the two sides of a diff come from: a committed manifest, a fresh render of the
working tree, or a render of a git ref (extracted with ``git archive`` into a temporary
directory; the repository itself is only read)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from tools.render.manifest import manifest_json, render_stack

TOOLS_DIR = Path(__file__).resolve().parents[1]
LIBRARY_DIR = TOOLS_DIR.parent / "library"


class RefRenderError(RuntimeError):
    """A git ref could not be extracted or rendered (the message carries the cause)."""


def committed(stack: str, directory: Path) -> dict[str, Any]:
    path = directory / f"{stack}.json"
    if not path.is_file():
        return {"resources": []}
    return json.loads(path.read_text(encoding="utf-8"))


def committed_at(repo: Path, ref: str, stack: str) -> dict[str, Any]:
    """``rendered/<stack>.json`` as committed at ``ref`` (``git show``): what a pull request
    diffs against, whatever ``make render`` just rewrote in the working tree. Empty for a
    stack not committed there; the working tree's file outside a git checkout."""
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{ref}:rendered/{stack}.json"],
        check=False,
        capture_output=True,
    )
    if result.returncode == 0:
        return json.loads(result.stdout)
    inside = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", ref],
        check=False,
        capture_output=True,
    )
    if inside.returncode == 0:
        return {"resources": []}  # the ref exists; the stack was not rendered there
    return committed(stack, repo / "rendered")


def working_tree(stack: str, functions_root: Path | None = None) -> dict[str, Any]:
    """A fresh render; round-tripped through JSON so it compares like a committed one."""
    return json.loads(manifest_json(render_stack(stack, functions_root=functions_root)))


def _extract(repo: Path, ref: str, target: Path) -> None:
    """The files of ``ref`` (tracked files only) under ``target``; read-only on ``repo``."""
    result = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", ref],
        check=False,
        capture_output=True,
    )
    if result.returncode != 0:
        raise RefRenderError(f"git archive {ref}: {result.stderr.decode().strip()}")
    archive = result.stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def render_refs(repo: Path, ref: str, stacks: list[str]) -> dict[str, dict[str, Any]]:
    """Render ``stacks`` as they are at git ``ref``, with *this* checkout's renderer (the
    ref may predate tools/), in a subprocess so the ref's own infra/ is imported, and the
    ref's own library/ (this checkout's when the ref predates it: the renderer needs it)."""
    with tempfile.TemporaryDirectory(prefix="switchboard-ref-") as temp:
        tree, runner, out = Path(temp, "tree"), Path(temp, "runner"), Path(temp, "out")
        fallback = Path(temp, "fallback")
        tree.mkdir()
        _extract(repo, ref, tree)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(TOOLS_DIR, runner / "tools", ignore=ignore)
        shutil.copytree(LIBRARY_DIR, fallback / "library", ignore=ignore)
        path = [str(runner), str(tree), str(fallback)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        for stack in stacks:
            result = subprocess.run(
                [sys.executable, "-m", "tools.render", stack, "--out", str(out), "--quiet"],
                cwd=tree,
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                # exit 2: an invalid catalogue at the ref, every problem listed; else the end
                keep = 40 if result.returncode == 2 else 3
                tail = "\n".join(result.stderr.strip().splitlines()[-keep:])
                raise RefRenderError(f"rendering {stack} at {ref} failed:\n{tail}")
        return {stack: committed(stack, out) for stack in stacks}
