"""The committed schema registry (``schemas/events/``) is current and reads back whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tools.schemas.__main__ import main
from tools.schemas.registry import REPO_ROOT, SCHEMAS_DIR, from_dir, generate, stale, write


def test_the_committed_registry_is_current() -> None:
    assert stale(generate()) == [], "run `make schemas` and commit schemas/events/"


def test_every_type_and_version_has_its_schema() -> None:
    registry = from_dir()
    assert registry == generate()
    for event_type, entry in registry.items():
        assert entry.publishes in entry.versions
        for number in entry.versions:
            schema = entry.schemas[number]
            assert schema["type"] == "object", event_type
            if event_type != "tick":  # Cloud Scheduler's payload is free-form
                assert schema["additionalProperties"] is False  # what a producer may send


def test_a_stale_file_is_named(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / SCHEMAS_DIR, tmp_path / SCHEMAS_DIR)
    path = tmp_path / SCHEMAS_DIR / "booking.cancelled" / "v1.json"
    schema = json.loads(path.read_text())
    schema["properties"]["reason"]["anyOf"][0]["maxLength"] = 400
    path.write_text(json.dumps(schema))
    (tmp_path / SCHEMAS_DIR / "old.type").mkdir()
    (tmp_path / SCHEMAS_DIR / "old.type" / "v1.json").write_text("{}")
    assert stale(generate(), tmp_path) == [
        "extra: old.type/v1.json",
        "changed: booking.cancelled/v1.json",
    ]
    write(generate(), tmp_path)
    assert stale(generate(), tmp_path) == []
    assert not (tmp_path / SCHEMAS_DIR / "old.type").exists()


def test_check_exits_non_zero_when_stale(monkeypatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import tools.schemas.__main__ as entry

    monkeypatch.setattr(entry, "stale", lambda registry: ["missing: x/v1.json"])
    assert main(["--check"]) == 1
    assert "missing: x/v1.json" in capsys.readouterr().err
