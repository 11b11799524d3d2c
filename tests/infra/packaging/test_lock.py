"""Builds install what the tests ran: every archive pins its closure from the lock."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from infra.catalogue import FUNCTIONS_DIR, load_catalogue
from infra.packaging.archive import PackagingError, build_archive
from infra.packaging.lock import LOCK_FILE, LockError, parse_lock, read_lock
from tools.lock.__main__ import build_lock, main

REPO_ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def archive_requirements(functions_root: Path, agent: str, out: Path) -> list[str]:
    built = build_archive(functions_root, agent, out)
    with zipfile.ZipFile(built.path) as opened:
        lines = opened.read("requirements.txt").decode().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_the_committed_lock_is_what_the_suite_runs_on() -> None:
    """The environment these tests run in was installed from constraints.txt: the lock
    computed from it must be the committed one, and agree with constraints.txt."""
    assert build_lock(FUNCTIONS_DIR) == read_lock(FUNCTIONS_DIR), "run `make lock`"
    pins = constraints()
    for key, entry in read_lock(FUNCTIONS_DIR).items():
        assert pins.get(key) == entry.version, f"{key}: lock {entry.version} vs constraints"
    assert main(["--check"]) == 0


def test_every_archive_pins_every_package_it_installs(tmp_path: Path) -> None:
    locked = read_lock(FUNCTIONS_DIR)
    for agent in load_catalogue().agents:
        lines = archive_requirements(FUNCTIONS_DIR, agent, tmp_path)
        assert lines, agent
        for line in lines:
            match = PIN.match(line)
            assert match, f"{agent}: {line!r} is not an exact pin"
            entry = locked[canonicalize_name(match.group(1))]
            assert match.group(2) == entry.version
        names = {canonicalize_name(PIN.match(line).group(1)) for line in lines}  # type: ignore[union-attr]
        for key in names:  # closed: whatever a pinned package needs is pinned too
            assert set(locked[key].requires) <= names, (agent, key)


def test_an_archive_holds_its_own_closure_only(tmp_path: Path) -> None:
    billing = archive_requirements(FUNCTIONS_DIR, "billing", tmp_path)
    notifier = archive_requirements(FUNCTIONS_DIR, "notifier", tmp_path)
    assert any(line.startswith("stripe==") for line in billing)
    assert not any(line.startswith("stripe==") for line in notifier)
    assert any(line.startswith("twilio==") for line in notifier)
    for lines in (billing, notifier):  # the runtime's and its transitive requirements
        assert any(line.startswith("functions-framework==") for line in lines)
        assert any(line.startswith("Flask==") for line in lines)
        assert any(line.startswith("protobuf==") for line in lines)


def test_a_bump_in_the_lock_rebuilds_exactly_the_agents_that_install_it(
    functions_copy: Path, tmp_path: Path
) -> None:
    agents = sorted(load_catalogue(functions_copy).agents)
    before = {a: build_archive(functions_copy, a, tmp_path / "a").content_hash for a in agents}
    lock = functions_copy / LOCK_FILE
    text = lock.read_text()
    version = read_lock(functions_copy)["stripe"].version
    lock.write_text(text.replace(f"stripe=={version}", f"stripe=={version}.post1"))
    after = {a: build_archive(functions_copy, a, tmp_path / "b").content_hash for a in agents}
    users = {
        a
        for a in agents
        if "stripe==" in "\n".join(archive_requirements(functions_copy, a, tmp_path / "c"))
    }
    assert users and users != set(agents)
    assert {a for a in agents if before[a] != after[a]} == users


def test_a_range_the_lock_does_not_satisfy_names_the_file(
    functions_copy: Path, tmp_path: Path
) -> None:
    (functions_copy / "billing" / "requirements.txt").write_text("stripe>=99\n")
    with pytest.raises(PackagingError, match=r"billing/requirements.txt: stripe>=99 does not"):
        build_archive(functions_copy, "billing", tmp_path)


def test_an_unlocked_requirement_says_how_to_lock_it(functions_copy: Path, tmp_path: Path) -> None:
    (functions_copy / "billing" / "requirements.txt").write_text("left-pad-nonexistent==1.0\n")
    with pytest.raises(PackagingError, match=r"left-pad-nonexistent is not in functions/"):
        build_archive(functions_copy, "billing", tmp_path)


@pytest.mark.parametrize(
    "text", ["stripe>=1\n", "stripe==1\nstripe==1\n", "stripe==1 # requires\x00\n"]
)
def test_a_malformed_lock_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(LockError, match=r"lock:\d"):
        parse_lock(text, "lock")
