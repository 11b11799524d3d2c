"""The strict YAML reader: no ambiguity, no expansion, bounded, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infra.catalogue.yaml_reader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    YamlError,
    parse_yaml,
    read_yaml,
)

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ingress: internal\ningress: public\n", "duplicate key 'ingress' (first at line 1)"),
        ("env: {A: 1, A: 2}\n", "duplicate key 'A'"),
        ("a: &x [1]\nb: 2\n", "anchors (&name) are not allowed"),
        ("a: *x\n", "aliases (*name) are not allowed"),
        ("<<: {a: 1}\n", "merge keys (<<) are not allowed"),
        ("a: !!python/object:os.system x\n", "explicit tags are not allowed"),
        ("a: !!str 1\n", "explicit tags are not allowed"),
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("---\n", "the file is empty"),
        ("~\n", "the file is empty"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("[" * 3000 + "]" * 3000, f"nested deeper than {MAX_DEPTH} levels"),
        ("a: " + "9" * 5001 + "\n", "integer longer than 12 digits"),
        ("a: [1\n", "invalid YAML"),
        ("? [a, b]\n: c\n", "keys must be plain scalars"),
    ],
)
def test_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(YamlError) as raised:
        parse_yaml(text)
    assert says in str(raised.value)
    assert len(str(raised.value)) < 200


def test_an_alias_bomb_is_refused_at_once() -> None:
    assert len(ALIAS_BOMB) < 600
    started = time.monotonic()
    with pytest.raises(YamlError, match="anchors"):
        parse_yaml(ALIAS_BOMB)
    assert time.monotonic() - started < 1.0


def test_scalars_follow_the_yaml_1_2_core_schema() -> None:
    document = parse_yaml(
        "a: yes\nb: true\nc: on\nd: 010\ne: 1:30\nf: 0x1F\ng: -3\nh: 1.5\ni: False\nj: 1_000\n"
    )
    assert document == {
        "a": "yes",
        "b": True,
        "c": "on",
        "d": 10,
        "e": "1:30",
        "f": "0x1F",
        "g": -3,
        "h": 1.5,
        "i": False,
        "j": "1_000",
    }


def test_files_over_the_size_limit_are_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("a: " + "x" * MAX_FILE_BYTES)
    with pytest.raises(YamlError, match="byte limit"):
        read_yaml(path)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="file not found"):
        read_yaml(tmp_path / "nope.yaml")
    path = tmp_path / "agent.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(YamlError, match="not UTF-8"):
        read_yaml(path)
