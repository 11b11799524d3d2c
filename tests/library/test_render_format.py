"""The render format read once: every committed render parses into typed records that say
what the JSON says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from library.render_format import MODE_PREVIEW, load, parse

RENDERED = Path(__file__).resolve().parents[2] / "rendered"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_committed_render_reads_as_written(stack: str) -> None:
    path = RENDERED / f"{stack}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    rendered = load(path)
    assert rendered.stack == stack and not rendered.preview
    assert [r.id for r in rendered.resources] == [r["id"] for r in document["resources"]]
    for resource, raw in zip(rendered.resources, document["resources"], strict=True):
        assert (resource.type, resource.name, resource.custom) == (
            raw["type"],
            raw["name"],
            raw["custom"],
        )
        assert resource.parent == raw["parent"]
        assert list(resource.dependencies) == raw["dependencies"]
        assert resource.inputs == raw.get("inputs", {})
        assert resource.protect == raw["options"]["protect"]
    assert [(i.token, i.args) for i in rendered.invokes] == [
        (i["token"], i["args"]) for i in document["invokes"]
    ]
    assert any(not r.custom for r in rendered.resources)  # components are kept


def test_a_partial_document_reads_with_the_formats_defaults() -> None:
    rendered = parse(
        {"mode": MODE_PREVIEW, "resources": [{"id": "t::n", "type": "t", "name": "n"}]}
    )
    assert rendered.stack == "" and rendered.preview and rendered.invokes == ()
    (resource,) = rendered.resources
    assert resource.custom and resource.parent is None and resource.dependencies == ()
    assert not resource.protect and resource.inputs == {}
    assert parse({}).resources == ()
