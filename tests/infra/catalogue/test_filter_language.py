"""Tests for the Pub/Sub subscription filter language parser and evaluator.

Documentation examples come from https://cloud.google.com/pubsub/docs/subscription-message-filter
(text last updated 2026-04-10); each row names the section it is taken from.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.catalogue.filter_language import (
    MAX_FILTER_BYTES,
    And,
    Equals,
    Expr,
    Filter,
    FilterSyntaxError,
    Has,
    HasPrefix,
    Not,
    NotEquals,
    Or,
    conjoin,
    matches,
    parse_filter,
    validate_filter,
)

TAG = "iana.org/language_tag"

# (filter, attributes, expected match)
DOC_EXAMPLES: list[tuple[str, dict[str, str], bool]] = [
    # "Syntax to create a filter": the table of filters that select the name attribute.
    ("attributes:name", {"name": "com"}, True),
    ("attributes:name", {"name": ""}, True),
    ("attributes:name", {"Name": "com"}, False),
    ("NOT attributes:name", {}, True),
    ("NOT attributes:name", {"name": "com"}, False),
    ('attributes.name = "com"', {"name": "com"}, True),
    ('attributes.name = "com"', {"name": "Com"}, False),
    ('attributes.name = "com"', {"name": "com "}, False),
    ('attributes.name = "com"', {}, False),
    ('attributes.name != "com"', {"name": "com"}, False),
    ('attributes.name != "com"', {"name": "net"}, True),
    # "Messages without the name attribute and the value of com": a missing key matches.
    ('attributes.name != "com"', {}, True),
    ('attributes.name != "com"', {"other": "com"}, True),
    ('hasPrefix(attributes.name, "co")', {"name": "com"}, True),
    ('hasPrefix(attributes.name, "co")', {"name": "co"}, True),
    ('hasPrefix(attributes.name, "co")', {"name": "Com"}, False),
    ('hasPrefix(attributes.name, "co")', {"name": "c"}, False),
    ('hasPrefix(attributes.name, "co")', {}, False),
    ('NOT hasPrefix(attributes.name, "co")', {"name": "com"}, False),
    ('NOT hasPrefix(attributes.name, "co")', {"name": "net"}, True),
    ('NOT hasPrefix(attributes.name, "co")', {}, True),
    # "Comparison operators for the filter expression": a key needing a string literal.
    (f'attributes."{TAG}" = "en"', {TAG: "en"}, True),
    (f'attributes."{TAG}" = "en"', {TAG: "EN"}, False),
    (f'attributes."{TAG}" = "en"', {"language_tag": "en"}, False),
    # ... and the valid escape example.
    ('attributes:"\\u307F\\u3093\\u306A"', {"\u307f\u3093\u306a": "x"}, True),
    ('attributes:"\\u307F\\u3093\\u306A"', {"\u307f\u3093": "x"}, False),
    # "Boolean operators for the filter expression".
    (f'attributes:"{TAG}" AND NOT attributes.name = "com"', {TAG: "en"}, True),
    (f'attributes:"{TAG}" AND NOT attributes.name = "com"', {TAG: "en", "name": "net"}, True),
    (f'attributes:"{TAG}" AND NOT attributes.name = "com"', {TAG: "en", "name": "com"}, False),
    (f'attributes:"{TAG}" AND NOT attributes.name = "com"', {"name": "net"}, False),
    (
        f'attributes:"{TAG}" AND (attributes.name = "net" OR attributes.name = "org")',
        {TAG: "en", "name": "org"},
        True,
    ),
    (
        f'attributes:"{TAG}" AND (attributes.name = "net" OR attributes.name = "org")',
        {TAG: "en", "name": "com"},
        False,
    ),
    (
        f'attributes:"{TAG}" AND (attributes.name = "net" OR attributes.name = "org")',
        {"name": "net"},
        False,
    ),
    (f'attributes.name = "com" AND -attributes:"{TAG}"', {"name": "com"}, True),
    (f'attributes.name = "com" AND -attributes:"{TAG}"', {"name": "com", TAG: "en"}, False),
    # "Functions for the filter expression": the template hasPrefix(attributes.KEY, "SUBSTRING").
    ('hasPrefix(attributes.KEY, "SUBSTRING")', {"KEY": "SUBSTRING and more"}, True),
    ('hasPrefix(attributes.KEY, "SUBSTRING")', {"KEY": "substring"}, False),
    # "Create a subscription with a filter": the Go/Java/Node.js/Python/Ruby samples ...
    ('attributes.author="unknown"', {"author": "unknown"}, True),
    ('attributes.author="unknown"', {"author": "known"}, False),
    # ... and the C++ sample.
    ('attributes.is-even = "false"', {"is-even": "false"}, True),
    ('attributes.is-even = "false"', {"is-even": "true"}, False),
    # Subscription.filter in the API reference: "If empty, then no messages are filtered out."
    ("", {}, True),
    (" \t\n", {"a": "b"}, True),
]

# "Comparison operators" and "Boolean operators" sections: filters marked Invalid.
# (filter, error position, fragment of the message)
DOC_INVALID: list[tuple[str, int, str]] = [
    ('"com" = attributes.name', 0, "cannot start with a string literal"),
    ("attributes.name = attributes.website", 18, 'expected a string literal after "="'),
    ("attributes:\\u307F\\u3093\\u306A", 11, "must be string literals"),
    (
        f'attributes:"{TAG}" AND attributes.name = "net" OR attributes.name = "org"',
        63,
        "OR cannot be combined with AND without parentheses",
    ),
    ('attributes.name = "com" AND ("net" OR "org")', 29, "cannot start with a string literal"),
]

# (filter, error position, fragment of the message)
SYNTAX_ERRORS: list[tuple[str, int, str]] = [
    # Unbalanced parentheses.
    ("(attributes:a", 13, "missing ')' to close '(' at character 0"),
    ("((attributes:a)", 15, "missing ')' to close '(' at character 0"),
    ("attributes:a)", 12, "unmatched ')'"),
    ("(attributes:a))", 14, "unmatched ')'"),
    ("()", 1, "expected a condition"),
    # Missing or non-literal values.
    ("attributes.name =", 17, 'expected a string literal after "="'),
    ("attributes.name != com", 19, 'expected a string literal after "!=", found "com"'),
    ("attributes.name = 'com'", 18, "must use double quotes"),
    ("hasPrefix(attributes.name, )", 27, "second argument of hasPrefix"),
    ('hasPrefix(attributes.name, "a"', 30, "expected ')' to close hasPrefix("),
    ('hasPrefix("a", attributes.name)', 10, "first argument of hasPrefix must be attributes.KEY"),
    ('hasPrefix(attributes.name "a")', 26, "expected ','"),
    # Unknown functions (hasPrefix is the only one, and names are case-sensitive).
    ('hasSuffix(attributes.name, "m")', 0, 'unknown function "hasSuffix"'),
    ('hasprefix(attributes.name, "co")', 0, 'unknown function "hasprefix"'),
    ('regex(attributes.name, "^co")', 0, 'unknown function "regex"'),
    # Bare words and incomplete restrictions.
    ("name", 0, 'found "name"'),
    ("attributes", 10, "expected '.KEY' or ':KEY' after attributes"),
    ("attributes.name", 15, "expected '=' or '!=' after attributes.KEY"),
    ('attributes.name == "com"', 17, 'expected a string literal after "="'),
    ("attributes:", 11, "expected an attribute key"),
    ('attributes.iana.org = "en"', 15, 'unexpected "." in attribute key'),
    ("attributes:a.b", 12, 'unexpected "." in attribute key'),
    ("attributes:\u00e9", 11, "must be string literals"),
    # AND and OR mixed without parentheses, in either order.
    ("attributes:a OR attributes:b AND attributes:c", 29, "AND cannot be combined with OR"),
    ("attributes:a AND attributes:b OR attributes:c", 30, "OR cannot be combined with AND"),
    ("NOT attributes:a AND attributes:b OR attributes:c", 34, "without parentheses"),
    # Operators are case-sensitive and need whitespace; one negation per term.
    ("attributes:a and attributes:b", 13, "operators must be uppercase: AND"),
    ("attributes:a Or attributes:b", 13, "operators must be uppercase: OR"),
    ("not attributes:a", 0, "operators must be uppercase: NOT"),
    ('attributes.a = "x"AND attributes:b', 18, "expected whitespace before AND"),
    ("NOT(attributes:a)", 3, "expected whitespace after NOT"),
    ("NOT", 3, "expected a condition after NOT"),
    ("- attributes:a", 1, "immediately after '-'"),
    ("NOT NOT attributes:a", 4, "cannot be negated again"),
    ("--attributes:a", 1, "cannot be negated again"),
    ("AND attributes:a", 0, 'found "AND"'),
    ("attributes:a AND", 16, "expected a condition after AND"),
    ("attributes:a OR OR attributes:b", 16, 'found "OR"'),
    # Trailing garbage, including implicit AND by juxtaposition.
    (
        "attributes:a b",
        13,
        'expected AND, OR or end of filter after a complete condition, found "b"',
    ),
    ("attributes:a attributes:b", 13, "expected AND, OR or end of filter"),
    ('attributes.a = "x" "y"', 19, "found a string literal"),
    ("(attributes:a attributes:b)", 14, "expected AND, OR or ')'"),
    ("attributes:a;", 12, 'unexpected ";" in attribute key'),
    ("attributes:a \x00", 13, "found U+0000"),
    # String literals.
    ('attributes.a = "abc', 15, "unterminated string literal"),
    ('attributes.a = "abc\\', 19, "unterminated string literal"),
    ('attributes.a = "a\nb"', 17, "line breaks inside a string literal"),
    ('attributes.a = "\\q"', 16, 'invalid escape sequence "\\q"'),
    ('attributes.a = "\\8"', 16, 'invalid escape sequence "\\8"'),
    ('attributes.a = "\\x4"', 16, "needs exactly 2 hex digits"),
    ('attributes.a = "\\u00e"', 16, "needs exactly 4 hex digits"),
    ('attributes.a = "\\u+0e9"', 16, "needs exactly 4 hex digits"),
    ('attributes.a = "\\18"', 16, "needs exactly 3 octal digits"),
    ('attributes.a = "\\uD800"', 16, "not a valid Unicode scalar value"),
    ('attributes.a = "\\U00110000"', 16, "not a valid Unicode scalar value"),
    # Nesting far beyond anything that fits in 256 bytes.
    ("(" * 200 + "attributes:a" + ")" * 200, 128, "nested more than 128 levels"),
]


@pytest.mark.parametrize(("text", "attributes", "expected"), DOC_EXAMPLES)
def test_documented_examples(text: str, attributes: dict[str, str], expected: bool) -> None:
    validate_filter(text)
    assert parse_filter(text).matches(attributes) is expected
    assert matches(text, attributes) is expected


@pytest.mark.parametrize(("text", "position", "fragment"), DOC_INVALID + SYNTAX_ERRORS)
def test_syntax_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert (caught.value.position, fragment in caught.value.message) == (position, True), (
        caught.value.message
    )
    with pytest.raises(FilterSyntaxError):
        validate_filter(text)


def test_error_string_has_position_and_caret() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter("attributes.name =")
    assert str(caught.value) == (
        'filter syntax error at character 17: expected a string literal after "=", '
        "found end of filter\n  attributes.name =\n                   ^"
    )
    assert isinstance(caught.value, ValueError)


def test_filter_length_limit_is_256_utf8_bytes() -> None:
    fits = "attributes:" + "k" * (MAX_FILTER_BYTES - len("attributes:"))
    validate_filter(fits)
    with pytest.raises(FilterSyntaxError) as caught:
        validate_filter(fits + "k")
    assert caught.value.position == 256
    assert "257 bytes" in caught.value.message
    parse_filter(fits + "k")  # only validate_filter enforces the limit
    # Two-byte characters: the 123rd "é" is the first that does not fit after 'attributes:"'.
    wide = 'attributes:"' + "\u00e9" * 130 + '"'
    with pytest.raises(FilterSyntaxError) as caught:
        validate_filter(wide)
    assert caught.value.position == len('attributes:"') + 122
    assert f"{len(wide.encode())} bytes" in caught.value.message


def test_string_escapes() -> None:
    text = r'attributes."k\"1" = "a\"b\\c\n\t\a\b\f\r\v\?\`\'\x41\X42\101\u00e9\U0001F600\000"'
    assert parse_filter(text).expr == Equals(
        'k"1', "a\"b\\c\n\t\a\b\f\r\v?`'AB" + "A\u00e9\U0001f600\x00"
    )
    # Raw (unescaped) non-ASCII and tabs are allowed inside literals.
    assert parse_filter('attributes:"\u00e9\tx"').expr == Has("\u00e9\tx")


def test_whitespace_and_keywords_as_keys() -> None:
    spaced = ' \n( attributes : a\tAND\nattributes.b!="x" )\t'
    assert parse_filter(spaced).expr == And((Has("a"), NotEquals("b", "x")))
    assert parse_filter('attributes:AND OR attributes.NOT = ""').expr == Or(
        (Has("AND"), Equals("NOT", ""))
    )
    assert parse_filter('hasPrefix( attributes."a b" , "" )').expr == HasPrefix("a b", "")


def test_not_binds_tighter_than_and_or() -> None:
    parsed = parse_filter("NOT attributes:a AND -attributes:b")
    assert parsed.expr == And((Not(Has("a")), Not(Has("b"))))
    assert parse_filter("NOT (attributes:a OR attributes:b)").matches({"c": "1"})
    assert not parse_filter("NOT (attributes:a OR attributes:b)").matches({"b": "1"})


def test_filter_is_immutable_hashable_and_introspectable() -> None:
    text = (
        'attributes:"k 1" AND (attributes.kind = "a" OR attributes.kind != "b") '
        'AND NOT hasPrefix(attributes.kind, "c") AND attributes.other = "d"'
    )
    parsed = parse_filter(text)
    assert parsed == parse_filter(text)
    assert hash(parsed) == hash(parse_filter(text))
    assert parsed.text == text
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.text = ""  # type: ignore[misc]
    assert parsed.attribute_keys() == {"k 1", "kind", "other"}
    assert parsed.values_for("kind") == {"a", "b", "c"}
    assert parsed.values_for("k 1") == frozenset()
    assert parsed.values_for("missing") == frozenset()
    assert parse_filter("").attribute_keys() == frozenset()


def test_matches_helper_raises_for_invalid_filters() -> None:
    with pytest.raises(FilterSyntaxError):
        matches("attributes:", {})


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ((), ""),
        (("", "  "), ""),
        ((" attributes:a OR attributes:b ",), "attributes:a OR attributes:b"),
        (("attributes:a", "", "attributes:b"), "attributes:a AND attributes:b"),
        (
            ("attributes:a OR attributes:b", "attributes:c AND attributes:d"),
            "(attributes:a OR attributes:b) AND (attributes:c AND attributes:d)",
        ),
        (
            (" (attributes:a OR attributes:b) ", "NOT (attributes:c OR attributes:d)"),
            "(attributes:a OR attributes:b) AND NOT (attributes:c OR attributes:d)",
        ),
        (
            ("(attributes:a) OR (attributes:b)", "-attributes:c"),
            "((attributes:a) OR (attributes:b)) AND -attributes:c",
        ),
    ],
)
def test_conjoin(texts: tuple[str, ...], expected: str) -> None:
    assert conjoin(*texts) == expected
    parse_filter(expected)


def test_conjoin_rejects_invalid_operands() -> None:
    with pytest.raises(FilterSyntaxError):
        conjoin("attributes:a", "attributes:a OR")


# --- Property tests ----------------------------------------------------------------------------

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
KEYS = st.one_of(st.sampled_from(["a", "b", "name", "is-even", TAG, "", "\u307f"]), st.text())
VALUES = st.one_of(
    st.sampled_from(["", "co", "com", "\"'?`\\", "\a\b\f\n\r\t\v"]), st.text(max_size=6)
)


def _reference(expr: Expr, attributes: Mapping[str, str]) -> bool:
    """Independent statement of the documented semantics."""
    match expr:
        case Has(key):
            result = key in attributes
        case Equals(key, value):
            result = key in attributes and attributes[key] == value
        case NotEquals(key, value):
            result = not (key in attributes and attributes[key] == value)
        case HasPrefix(key, prefix):
            result = key in attributes and attributes[key][: len(prefix)] == prefix
        case Not(operand):
            result = not _reference(operand, attributes)
        case And(operands):
            result = all(_reference(operand, attributes) for operand in operands)
        case Or(operands):
            result = any(_reference(operand, attributes) for operand in operands)
    return result


def _walk(expr: Expr) -> Iterator[Expr]:
    yield expr
    match expr:
        case Not(operand):
            yield from _walk(operand)
        case And(operands) | Or(operands):
            for operand in operands:
                yield from _walk(operand)


def _literals(expr: Expr) -> Iterator[str]:
    for node in _walk(expr):
        match node:
            case Equals(_, value) | NotEquals(_, value) | HasPrefix(_, value):
                yield value


leaves = st.one_of(
    st.builds(Has, KEYS),
    st.builds(Equals, KEYS, VALUES),
    st.builds(NotEquals, KEYS, VALUES),
    st.builds(HasPrefix, KEYS, VALUES),
)
exprs: st.SearchStrategy[Expr] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.builds(And, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(children, min_size=2, max_size=3).map(tuple)),
    ),
    max_leaves=8,
)
SIMPLE_ESCAPES = {
    "\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v",
    '"': r"\"", "'": r"\'", "\\": r"\\", "?": r"\?", "`": r"\`",
}  # fmt: skip
OPTIONAL_WS = st.sampled_from(["", "", " ", "  ", "\t", "\n"])
REQUIRED_WS = st.sampled_from([" ", " ", "\t", "\n", " \r\n "])


def _quote(draw: st.DrawFn, value: str) -> str:
    """A double-quoted literal for ``value``, using a random mix of the escape forms."""
    out = []
    for char in value:
        code = ord(char)
        forms = [f"\\U{code:08X}"]
        if code < 0x10000:
            forms.append(f"\\u{code:04x}")
        if code < 0x100:
            forms += [f"\\x{code:02X}", f"\\{code:03o}"]
        if char in SIMPLE_ESCAPES:
            forms.append(SIMPLE_ESCAPES[char])
        if char not in '"\\\r\n':
            forms.append(char)
        out.append(draw(st.sampled_from(forms)))
    return '"' + "".join(out) + '"'


def _render_key(draw: st.DrawFn, key: str) -> str:
    if BARE_KEY.fullmatch(key) and draw(st.booleans()):
        return key
    return _quote(draw, key)


@st.composite
def render(draw: st.DrawFn, expr: Expr) -> str:
    """Filter text for ``expr`` with random spacing, quoting, escapes and NOT spelling."""

    def sub(node: Expr) -> str:
        text = draw(render(node))
        if isinstance(node, Not | And | Or):
            return f"({draw(OPTIONAL_WS)}{text}{draw(OPTIONAL_WS)})"
        return text

    match expr:
        case Has(key):
            return f"attributes{draw(OPTIONAL_WS)}:{draw(OPTIONAL_WS)}{_render_key(draw, key)}"
        case Equals(key, value) | NotEquals(key, value):
            operator = "=" if isinstance(expr, Equals) else "!="
            return (
                f"attributes.{_render_key(draw, key)}{draw(OPTIONAL_WS)}{operator}"
                f"{draw(OPTIONAL_WS)}{_quote(draw, value)}"
            )
        case HasPrefix(key, prefix):
            return (
                f"hasPrefix({draw(OPTIONAL_WS)}attributes.{_render_key(draw, key)}"
                f"{draw(OPTIONAL_WS)},{draw(OPTIONAL_WS)}{_quote(draw, prefix)}"
                f"{draw(OPTIONAL_WS)})"
            )
        case Not(operand):
            negation = draw(st.sampled_from(["-", "NOT" + draw(REQUIRED_WS)]))
            return negation + sub(operand)
        case And(operands) | Or(operands):
            keyword = "AND" if isinstance(expr, And) else "OR"
            joined = sub(operands[0])
            for operand in operands[1:]:
                joined += f"{draw(REQUIRED_WS)}{keyword}{draw(REQUIRED_WS)}{sub(operand)}"
            return joined
    raise AssertionError(expr)


@st.composite
def attribute_maps(draw: st.DrawFn, *roots: Expr) -> dict[str, str]:
    """Attribute maps likely to hit the keys and literals (and their extensions) of ``roots``."""
    nodes = [node for root in roots for node in _walk(root)]
    keys = [node.key for node in nodes if isinstance(node, Has | Equals | NotEquals | HasPrefix)]
    literals = [literal for root in roots for literal in _literals(root)] + [""]
    values = st.one_of(
        st.sampled_from(literals),
        st.tuples(st.sampled_from(literals), st.text(max_size=2)).map("".join),
        st.text(max_size=3),
    )
    return draw(st.dictionaries(st.sampled_from([*keys, "unrelated"]), values, max_size=4))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(data=st.data(), expr=exprs)
def test_rendered_ast_parses_back_to_an_equivalent_filter(data: st.DataObject, expr: Expr) -> None:
    text = data.draw(render(expr), label="text")
    parsed = parse_filter(text)
    assert parsed.expr == expr
    for attributes in data.draw(st.lists(attribute_maps(expr), max_size=8), label="attributes"):
        assert parsed.matches(attributes) is _reference(expr, attributes)
    leaf_keys = {n.key for n in _walk(expr) if isinstance(n, Has | Equals | NotEquals | HasPrefix)}
    assert parsed.attribute_keys() == leaf_keys


TOKENS = st.sampled_from([
    "attributes", ".", ":", "=", "!=", "!", '"', '"x"', "'", "\\", "\\u00", "(", ")", ",", "-",
    "AND", "OR", "NOT", "and", "hasPrefix", "hasPrefix(", "k", " ", "\n", "\t", "\x00",
])  # fmt: skip


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(), st.lists(TOKENS, max_size=20).map("".join)))
def test_parse_only_raises_filter_syntax_error(text: str) -> None:
    try:
        parse_filter(text)
        validate_filter(text)
    except FilterSyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.message
        assert str(error).startswith(f"filter syntax error at character {error.position}: ")


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(data=st.data(), left=st.none() | exprs, right=st.none() | exprs)
def test_conjoin_matches_exactly_when_both_match(
    data: st.DataObject, left: Expr | None, right: Expr | None
) -> None:
    left_text = "" if left is None else data.draw(render(left), label="left")
    right_text = "" if right is None else data.draw(render(right), label="right")
    combined = parse_filter(conjoin(left_text, right_text))
    roots = [root for root in (left, right) if root is not None]
    candidates = data.draw(st.lists(attribute_maps(*roots), max_size=8), label="attributes")
    for attributes in candidates:
        expected = all(_reference(root, attributes) for root in roots)
        assert combined.matches(attributes) is expected


def test_empty_filter_object() -> None:
    assert parse_filter("  ") == Filter("  ", None)
