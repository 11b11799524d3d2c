"""docs/reference.md and the README's per-stack table are current; the reference covers
every field of the models, and a field without a description fails the generation by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from infra.catalogue.model import AgentManifest, RetryPolicy, SubscriptionSpec
from infra.settings import StackSettings
from tools.reference.__main__ import main
from tools.reference.document import (
    MANIFEST_WALK,
    README,
    REFERENCE,
    REPO_ROOT,
    STACKS_END,
    STACKS_START,
    document,
    stacks_table,
    stale,
    write,
)
from tools.reference.fields import UndescribedFieldError, rows


def test_the_committed_reference_and_readme_table_are_current() -> None:
    assert stale() == [], "run `make reference` and commit docs/reference.md and README.md"


def _config_leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every leaf config key of the settings model, found independently of the tool."""
    keys = set()
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        default = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            keys |= _config_leaves(type(default), key + ".")
        else:
            keys.add(key)
    return keys


def test_every_settings_key_and_manifest_field_is_in_the_reference() -> None:
    text = (REPO_ROOT / REFERENCE).read_text(encoding="utf-8")
    for key in _config_leaves(StackSettings) - {"project", "region"}:
        # a map of models (agents.<name>...) shows its entries' keys under the map's own
        assert re.search(rf"`switchboard:{re.escape(key)}[`.]", text) or f"`{key}`:" in text, key
    for key in ("gcp:project", "gcp:region", "switchboard:agents.<name>.publicUrl"):
        assert f"`{key}`" in text
    for name in AgentManifest.model_fields:
        assert f"| `{name}` |" in text or f"| `{name}[]` |" in text, name
    for model, prefix in ((SubscriptionSpec, "subscriptions[]."), (RetryPolicy, "retry.")):
        for name in model.model_fields:
            assert f"{prefix}{name}`" in text, name


def test_types_defaults_limits_and_descriptions_come_from_the_models() -> None:
    text = document()
    assert (
        "| `timeout_seconds` | integer | `60` | 1 to 3600 (Cloud Run / Cloud Functions HTTP "
        "request timeout) | Request timeout; must not exceed any subscription's "
        "`ack_deadline_seconds`. |"
    ) in text
    assert "| `switchboard:instances.maxCap` | integer | `10` | 1 to 1000 |" in text
    assert '| `switchboard:logLevel` | `"DEBUG"` \\| `"INFO"` \\|' in text
    assert '| `platform` | `"function"` \\| `"run"` | required |' in text


class _Described(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class _Inner(_Described):
    size: Annotated[int, Field(ge=1, le=9)] = 3
    """How big."""
    colour: Literal["red", "blue"] = "red"


class _Outer(_Described):
    name: Annotated[str, Field(max_length=5)]
    """What it is called."""
    items: tuple[_Inner, ...] = ()
    """The inner things."""
    extra: bool = False


def test_a_field_without_a_description_is_named() -> None:
    with pytest.raises(UndescribedFieldError) as raised:
        rows(_Outer, MANIFEST_WALK)
    message = str(raised.value)
    assert "_Inner.colour" in message
    assert "_Outer.extra" in message
    assert "_Outer.name" not in message


def test_a_described_model_reads_as_rows() -> None:
    class Whole(_Described):
        name: Annotated[str, Field(min_length=2, max_length=5)]
        """What it is called."""
        tags: tuple[Annotated[str, Field(pattern=r"^[a-z]+$")], ...] = ("a",)
        """Its tags."""

    found = rows(Whole, MANIFEST_WALK)
    assert [(r.key, r.type, r.default, r.limits, r.description) for r in found] == [
        ("name", "string", "required", ("2 to 5 characters",), "What it is called."),
        ("tags", "list of string", '`["a"]`', ("each: matches `^[a-z]+$`",), "Its tags."),
    ]


def _copy(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    for name in [README, REFERENCE, *(p.name for p in REPO_ROOT.glob("Pulumi.*.yaml"))]:
        (tmp_path / name).write_bytes((REPO_ROOT / name).read_bytes())
    return tmp_path


def test_a_stale_file_is_named_and_write_makes_it_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    assert stale(root) == []
    (root / REFERENCE).write_text(document().replace("Request timeout", "Timeout"))
    assert stale(root) == [REFERENCE]
    assert write(root) == [REFERENCE]
    assert stale(root) == []

    import tools.reference.__main__ as entry

    monkeypatch.setattr(entry, "stale", lambda: [REFERENCE])
    assert main(["--check"]) == 1
    assert f"{REFERENCE} is not current: run `make reference`" in capsys.readouterr().err


def test_the_readme_table_follows_the_stack_files(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    prod = root / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("maxCap: 50", "maxCap: 40"))
    assert "maxCap: 40" in prod.read_text()
    assert stale(root) == [README]
    assert "| `switchboard:instances.maxCap` | `3` | `10` | `40` |" in stacks_table(root)
    before = (root / README).read_text()
    write(root)
    after = (root / README).read_text()
    # only the region between the markers changed
    assert before.split(STACKS_START)[0] == after.split(STACKS_START)[0]
    assert before.split(STACKS_END)[1] == after.split(STACKS_END)[1]
    assert "| `switchboard:instances.maxCap` | `3` | `10` | `40` |" in after


def test_keys_every_stack_sets_alike_are_listed_once() -> None:
    table = stacks_table()
    assert "| `switchboard:logLevel` | `DEBUG` | `INFO` | `INFO` |" in table
    assert "| `switchboard:agents.billing.memory` | — | — | `512Mi` |" in table
    alike = table.split("Set alike in every stack file:")[1]
    assert "`gcp:region` `europe-west1`" in alike
    assert "gcp:region" not in table.split("Set alike")[0]


def test_generation_refuses_an_undescribed_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tools.reference.__main__ as entry

    def undescribed() -> bool:
        rows(_Outer, MANIFEST_WALK)
        return False

    monkeypatch.setattr(entry, "stale", undescribed)
    assert main(["--check"]) == 2
    assert "_Outer.extra" in capsys.readouterr().err
