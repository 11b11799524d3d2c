"""Agent archives: deterministic, content-addressed, self-contained."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from infra.packaging.archive import (
    TAR_GZ,
    ZIP,
    PackagingError,
    build_archive,
)

KINDS = (ZIP, TAR_GZ)


def test_same_source_same_hash_and_bytes(functions_copy: Path, tmp_path: Path) -> None:
    first = build_archive(functions_copy, "billing", tmp_path / "a")
    second = build_archive(functions_copy, "billing", tmp_path / "b")
    assert first.content_hash == second.content_hash
    assert first.object_name == second.object_name
    assert first.path.read_bytes() == second.path.read_bytes()


def test_one_byte_in_the_agent_changes_only_that_agent(
    functions_copy: Path, tmp_path: Path
) -> None:
    billing = build_archive(functions_copy, "billing", tmp_path / "before")
    ledger = build_archive(functions_copy, "ledger", tmp_path / "before")
    main = functions_copy / "billing" / "main.py"
    main.write_bytes(main.read_bytes() + b" ")
    assert build_archive(functions_copy, "billing", tmp_path / "after").content_hash != (
        billing.content_hash
    )
    assert build_archive(functions_copy, "ledger", tmp_path / "after").content_hash == (
        ledger.content_hash
    )


def test_one_byte_in_the_shared_runtime_changes_every_agent(
    functions_copy: Path, tmp_path: Path
) -> None:
    before = {
        a: build_archive(functions_copy, a, tmp_path / "before").content_hash
        for a in ("billing", "ledger")
    }
    runtime = functions_copy / "shared" / "switchboard_runtime" / "__init__.py"
    runtime.write_bytes(runtime.read_bytes() + b"#")
    after = {
        a: build_archive(functions_copy, a, tmp_path / "after").content_hash
        for a in ("billing", "ledger")
    }
    assert all(before[a] != after[a] for a in before)


def test_caches_and_timestamps_do_not_change_the_archive(
    functions_copy: Path, tmp_path: Path
) -> None:
    before = build_archive(functions_copy, "notifier", tmp_path / "before")
    cache = functions_copy / "notifier" / "__pycache__"
    cache.mkdir()
    (cache / "main.cpython-311.pyc").write_bytes(b"\0junk")
    (functions_copy / "notifier" / "tests").mkdir()
    (functions_copy / "notifier" / "tests" / "test_x.py").write_text("x = 1\n")
    main = functions_copy / "notifier" / "main.py"
    main.touch()
    after = build_archive(functions_copy, "notifier", tmp_path / "after")
    assert after.content_hash == before.content_hash
    assert after.path.read_bytes() == before.path.read_bytes()


def test_archive_layout(functions_copy: Path, tmp_path: Path) -> None:
    archive = build_archive(functions_copy, "billing", tmp_path)
    with zipfile.ZipFile(archive.path) as opened:
        names = opened.namelist()
        assert names == sorted(names)
        assert "main.py" in names and "agent.yaml" in names
        assert "switchboard_runtime/__init__.py" in names
        assert {"switchboard_contract/__init__.py", "switchboard_contract/environment.py"} <= set(
            names
        )
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in opened.infolist())
        requirements = opened.read("requirements.txt").decode().splitlines()
    assert any(line.startswith("functions-framework") for line in requirements)
    assert any(line.startswith("stripe") for line in requirements)
    assert archive.object_name == f"agents/billing/{archive.content_hash[:20]}.zip"


@pytest.mark.parametrize("package", ["switchboard_runtime", "switchboard_contract"])
def test_agent_may_not_shadow_a_shared_package(
    functions_copy: Path, tmp_path: Path, package: str
) -> None:
    shadow = functions_copy / "ledger" / package
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    with pytest.raises(PackagingError, match=rf"ledger/{package}/__init__.py"):
        build_archive(functions_copy, "ledger", tmp_path)


def test_one_byte_in_the_contract_changes_every_agent(functions_copy: Path, tmp_path: Path) -> None:
    before = build_archive(functions_copy, "gateway", tmp_path / "before").content_hash
    contract = functions_copy / "shared" / "switchboard_contract" / "outcomes.py"
    contract.write_bytes(contract.read_bytes() + b"#")
    assert build_archive(functions_copy, "gateway", tmp_path / "after").content_hash != before


def test_a_missing_shared_package_is_named(functions_copy: Path, tmp_path: Path) -> None:
    shutil.rmtree(functions_copy / "shared" / "switchboard_contract")
    with pytest.raises(PackagingError, match=r"shared/switchboard_contract: shared package"):
        build_archive(functions_copy, "ledger", tmp_path)
