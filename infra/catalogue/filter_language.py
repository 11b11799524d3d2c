r"""Parser and evaluator for the Google Cloud Pub/Sub subscription filter language.

Source: "Filter messages from a subscription", section "Syntax to create a filter",
https://cloud.google.com/pubsub/docs/subscription-message-filter (also served at
https://cloud.google.com/pubsub/docs/filtering; text last updated 2026-04-10). Verified there:

* ``attributes:KEY`` matches a message that has the key; ``attributes.KEY = "VALUE"`` and
  ``attributes.KEY != "VALUE"`` compare a key with a value that must be a string literal; the key
  must be on the left, so ``"com" = attributes.name`` and ``attributes.name = attributes.website``
  are invalid. ``hasPrefix(attributes.KEY, "SUBSTRING")`` is the only function; no regexes.
* ``attributes.name != "com"`` is documented as "messages without the name attribute and the value
  of com", i.e. the negation of ``=``: a message *without* the key matches (the Go fake
  ``pubsub/pstest`` in google-cloud-go implements it the same way).
* Keys and values are case-sensitive and must match exactly. A key containing characters other
  than hyphens, underscores or alphanumerics must be a string literal: ``attributes."a.b/c"``.
  Escapes are only allowed inside string literals (``attributes:\u307F`` is listed as invalid);
  the docs name backslash, quotation-mark, non-printing, Unicode, hexadecimal and octal escapes.
* ``AND``, ``OR``, ``NOT`` "must be in uppercase letters"; "the NOT operator has the highest
  precedence"; "to combine the AND and OR operators, use parentheses and complete expressions"
  (``a AND b OR c`` is listed as invalid); the unary minus ``-`` may be used instead of ``NOT``.
* "The maximum length of a filter is 256 bytes"; an empty filter filters nothing out.

Where the page is silent this module follows the AIP-160 filtering grammar the language derives
from (https://google.aip.dev/160, ``ebnf-filtering.txt``) and CEL's escapes, and rejects rather
than guesses:

* string literals use double quotes only (every documented example does);
* escapes are CEL's: ``\a \b \f \n \r \t \v \" \' \\ \?`` and backslash-backtick, ``\xHH``,
  ``\uHHHH``, ``\UHHHHHHHH`` and octal ``\ooo`` (first digit 0-3); raw line breaks are refused;
* bare keys are ASCII letters, digits, ``-`` and ``_``;
* ``AND``/``OR`` need whitespace on both sides and ``NOT`` after it, ``-`` takes none;
* one negation per term (``NOT NOT x`` needs parentheses) and no implicit AND by juxtaposition.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MAX_FILTER_BYTES = 256
_MAX_DEPTH = 128  # deeper than any filter within MAX_FILTER_BYTES; guards the recursion
_WHITESPACE = " \t\r\n\f"
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
_KEY_FOLLOWERS = frozenset(_WHITESPACE + ")=!,")
_KEYWORDS = ("AND", "OR", "NOT")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    '"': '"', "'": "'", "\\": "\\", "?": "?", "`": "`",
}  # fmt: skip
_NUMERIC_ESCAPES = {"x": (2, 16), "X": (2, 16), "u": (4, 16), "U": (8, 16)}
_DIGITS = {8: frozenset("01234567"), 16: frozenset(string.hexdigits)}
_QUOTE_KEY_HINT = (
    'keys with characters other than letters, digits, "-" and "_" must be string literals, '
    'e.g. attributes."iana.org/language_tag"'
)
_CONDITION_FORMS = (
    'attributes.KEY = "...", attributes.KEY != "...", attributes:KEY, '
    'hasPrefix(attributes.KEY, "..."), NOT, - or ('
)


class FilterSyntaxError(ValueError):
    """A filter the Pub/Sub service would reject, located by 0-based character offset."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text = text
        self.position = position
        self.message = message
        shown = text.translate({ord(c): " " for c in _WHITESPACE})
        super().__init__(
            f"filter syntax error at character {position}: {message}\n"
            f"  {shown}\n  {' ' * position}^"
        )


@dataclass(frozen=True)
class Has:
    """``attributes:KEY`` - the message has the attribute."""

    key: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return self.key in attributes


@dataclass(frozen=True)
class Equals:
    """``attributes.KEY = "VALUE"`` - the attribute is present with exactly this value."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return attributes.get(self.key) == self.value


@dataclass(frozen=True)
class NotEquals:
    """``attributes.KEY != "VALUE"`` - the negation of ``=``, so a missing attribute matches."""

    key: str
    value: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return attributes.get(self.key) != self.value


@dataclass(frozen=True)
class HasPrefix:
    """``hasPrefix(attributes.KEY, "PREFIX")`` - the attribute is present and starts so."""

    key: str
    prefix: str

    def matches(self, attributes: Mapping[str, str]) -> bool:
        value = attributes.get(self.key)
        return value is not None and value.startswith(self.prefix)


@dataclass(frozen=True)
class Not:
    """``NOT x`` or ``-x``."""

    operand: Expr

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return not self.operand.matches(attributes)


@dataclass(frozen=True)
class And:
    """Two or more conditions joined by ``AND``."""

    operands: tuple[Expr, ...]

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(operand.matches(attributes) for operand in self.operands)


@dataclass(frozen=True)
class Or:
    """Two or more conditions joined by ``OR``."""

    operands: tuple[Expr, ...]

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return any(operand.matches(attributes) for operand in self.operands)


Leaf = Has | Equals | NotEquals | HasPrefix
Expr = Leaf | Not | And | Or


def _case_hint(word: str) -> str:
    """A hint for boolean operators written in the wrong case (they are case-sensitive)."""
    upper = word.upper()
    return f"; operators must be uppercase: {upper}" if upper in _KEYWORDS and word != upper else ""


def _leaves(expr: Expr) -> Iterator[Leaf]:
    match expr:
        case Not(operand):
            yield from _leaves(operand)
        case And(operands) | Or(operands):
            for operand in operands:
                yield from _leaves(operand)
        case _:
            yield expr


@dataclass(frozen=True)
class Filter:
    """A parsed filter: the original ``text`` and its AST (``None`` matches every message)."""

    text: str
    expr: Expr | None

    def matches(self, attributes: Mapping[str, str]) -> bool:
        """Whether a message with these attributes is delivered on the subscription."""
        return self.expr is None or self.expr.matches(attributes)

    def attribute_keys(self) -> frozenset[str]:
        """Every attribute key the filter mentions, with any operator."""
        return frozenset(leaf.key for leaf in self._leaves())

    def values_for(self, key: str) -> frozenset[str]:
        """Every literal compared with ``attributes.<key>`` by ``=``, ``!=`` or ``hasPrefix``."""
        values: set[str] = set()
        for leaf in self._leaves():
            match leaf:
                case Equals(k, v) | NotEquals(k, v) | HasPrefix(k, v) if k == key:
                    values.add(v)
        return frozenset(values)

    def _leaves(self) -> Iterator[Leaf]:
        return iter(()) if self.expr is None else _leaves(self.expr)


class _Parser:
    """Recursive-descent parser over the raw text, so every error knows its character offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.groups: set[tuple[int, int]] = set()  # (offset of "(", offset after ")")

    def parse(self) -> Expr | None:
        self._skip_ws()
        if self._at_end():
            return None
        expr = self._expression()
        self._skip_ws()
        if not self._at_end():
            if self._char() == ")":
                raise self._error("unmatched ')'")
            raise self._unexpected_after_condition("end of filter")
        return expr

    def is_wrapped(self) -> bool:
        """Whether the whole (stripped) text is one parenthesised group; call after parse()."""
        start = len(self.text) - len(self.text.lstrip(_WHITESPACE))
        return (start, len(self.text.rstrip(_WHITESPACE))) in self.groups

    def _expression(self) -> Expr:
        operands = [self._term()]
        operator: str | None = None
        while True:
            before = self.pos
            had_ws = self._skip_ws()
            word = self._word()
            if word not in ("AND", "OR"):
                self.pos = before
                break
            if not had_ws:
                raise self._error(f"expected whitespace before {word}")
            if operator not in (None, word):
                raise self._error(
                    f"{word} cannot be combined with {operator} without parentheses; "
                    'group the conditions, e.g. "a AND (b OR c)"'
                )
            operator = word
            self.pos += len(word)
            self._expect_ws_after(word)
            operands.append(self._term())
        if operator is None:
            return operands[0]
        return And(tuple(operands)) if operator == "AND" else Or(tuple(operands))

    def _term(self) -> Expr:
        if self._char() == "-":
            self.pos += 1
            if self._at_end() or self._char() in _WHITESPACE:
                raise self._error("expected a condition immediately after '-'")
            return Not(self._simple(negated=True))
        if self._word() == "NOT":
            self.pos += 3
            self._expect_ws_after("NOT")
            return Not(self._simple(negated=True))
        return self._simple(negated=False)

    def _simple(self, negated: bool) -> Expr:
        if self._at_end():
            raise self._error(f"expected a condition ({_CONDITION_FORMS}), found end of filter")
        char, word = self._char(), self._word()
        if negated and (char == "-" or word == "NOT"):
            raise self._error("a negation cannot be negated again; use NOT (...) instead")
        if char == "(":
            return self._group()
        if char == '"':
            raise self._error(
                "a condition cannot start with a string literal; the attribute "
                'must be on the left, e.g. attributes.KEY = "VALUE"'
            )
        if word == "attributes":
            return self._restriction()
        if word and self.text.startswith("(", self.pos + len(word)):
            if word == "hasPrefix":
                return self._has_prefix()
            raise self._error(f'unknown function "{word}"; hasPrefix is the only function')
        raise self._error(
            f"expected a condition ({_CONDITION_FORMS}), found {self._found()}{_case_hint(word)}"
        )

    def _group(self) -> Expr:
        start = self.pos
        if self.depth == _MAX_DEPTH:
            raise self._error(f"parentheses nested more than {_MAX_DEPTH} levels deep")
        self.depth += 1
        self.pos += 1
        self._skip_ws()
        expr = self._expression()
        self._skip_ws()
        if self._at_end():
            raise self._error(f"missing ')' to close '(' at character {start}")
        if self._char() != ")":
            raise self._unexpected_after_condition("')'")
        self.pos += 1
        self.depth -= 1
        self.groups.add((start, self.pos))
        return expr

    def _restriction(self) -> Expr:
        self.pos += len("attributes")
        if self._char() == ".":
            self.pos += 1
            key = self._key("attributes.")
            self._skip_ws()
            operator = "!=" if self.text.startswith("!=", self.pos) else self._char()
            if operator not in ("=", "!="):
                raise self._error(
                    f"expected '=' or '!=' after attributes.KEY, found {self._found()}"
                )
            self.pos += len(operator)
            self._skip_ws()
            value = self._string(f'expected a string literal after "{operator}"')
            return Equals(key, value) if operator == "=" else NotEquals(key, value)
        self._skip_ws()
        if self._char() != ":":
            raise self._error(f"expected '.KEY' or ':KEY' after attributes, found {self._found()}")
        self.pos += 1
        self._skip_ws()
        return Has(self._key("attributes:"))

    def _has_prefix(self) -> HasPrefix:
        self.pos += len("hasPrefix(")
        self._skip_ws()
        if self._word() != "attributes" or not self.text.startswith(
            ".", self.pos + len("attributes")
        ):
            raise self._error(
                f"the first argument of hasPrefix must be attributes.KEY, found {self._found()}"
            )
        self.pos += len("attributes.")
        key = self._key("attributes.")
        self._skip_ws()
        if self._char() != ",":
            raise self._error(
                f"expected ',' after the attribute in hasPrefix, found {self._found()}"
            )
        self.pos += 1
        self._skip_ws()
        prefix = self._string("expected a string literal as the second argument of hasPrefix")
        self._skip_ws()
        if self._char() != ")":
            raise self._error(f"expected ')' to close hasPrefix(, found {self._found()}")
        self.pos += 1
        return HasPrefix(key, prefix)

    def _key(self, after: str) -> str:
        if self._char() in ('"', "'"):
            return self._string("")
        word = self._word()
        if not word:
            raise self._error(
                f"expected an attribute key after {after}, found {self._found()}; {_QUOTE_KEY_HINT}"
            )
        self.pos += len(word)
        if not self._at_end() and self._char() not in _KEY_FOLLOWERS:
            raise self._error(f"unexpected {self._found()} in attribute key; {_QUOTE_KEY_HINT}")
        return word

    def _string(self, expectation: str) -> str:
        if self._char() == "'":
            raise self._error("string literals must use double quotes")
        if self._char() != '"':
            raise self._error(f"{expectation}, found {self._found()}")
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while not self._at_end():
            char = self._char()
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char in "\r\n":
                raise self._error("line breaks inside a string literal must be escaped as \\n")
            if "\ud800" <= char <= "\udfff":
                raise self._error("lone surrogate code point inside a string literal")
            if char == "\\":
                chars.append(self._escape())
            else:
                chars.append(char)
                self.pos += 1
        raise self._error("unterminated string literal", start)

    def _escape(self) -> str:
        start = self.pos
        kind = self.text[start + 1 : start + 2]
        if not kind:
            raise self._error("unterminated string literal")
        if kind in _SIMPLE_ESCAPES:
            self.pos += 2
            return _SIMPLE_ESCAPES[kind]
        if kind in _NUMERIC_ESCAPES:
            (length, base), first = _NUMERIC_ESCAPES[kind], start + 2
        elif kind in "0123":
            length, base, first = 3, 8, start + 1
        else:
            raise self._error(f'invalid escape sequence "\\{kind}"')
        digits = self.text[first : first + length]
        if len(digits) < length or not _DIGITS[base].issuperset(digits):
            kind_name = "octal" if base == 8 else "hex"
            raise self._error(f"escape sequence needs exactly {length} {kind_name} digits")
        code = int(digits, base)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise self._error(
                f"escape {self.text[start : first + length]} is not a valid Unicode scalar value"
            )
        self.pos = first + length
        return chr(code)

    def _unexpected_after_condition(self, closer: str) -> FilterSyntaxError:
        return self._error(
            f"expected AND, OR or {closer} after a complete condition, "
            f"found {self._found()}{_case_hint(self._word())}"
        )

    def _expect_ws_after(self, keyword: str) -> None:
        if self._at_end():
            raise self._error(f"expected a condition after {keyword}, found end of filter")
        if not self._skip_ws():
            raise self._error(f"expected whitespace after {keyword}")

    def _skip_ws(self) -> bool:
        start = self.pos
        while not self._at_end() and self._char() in _WHITESPACE:
            self.pos += 1
        return self.pos > start

    def _word(self) -> str:
        end = self.pos
        while end < len(self.text) and self.text[end] in _KEY_CHARS:
            end += 1
        return self.text[self.pos : end]

    def _char(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _found(self) -> str:
        if self._at_end():
            return "end of filter"
        shown = self._word() or self._char()
        if shown == '"':
            return "a string literal"
        return f'"{shown}"' if shown.isprintable() else f"U+{ord(shown):04X}"

    def _error(self, message: str, position: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, self.pos if position is None else position, message)


def parse_filter(text: str) -> Filter:
    """Parse ``text``; empty or whitespace-only text matches everything.

    The 256-byte limit is not checked here (see ``validate_filter``), so that filters combined
    with ``conjoin`` can still be evaluated and inspected.
    """
    return Filter(text, _Parser(text).parse())


def validate_filter(text: str) -> None:
    """Raise ``FilterSyntaxError`` unless Pub/Sub would accept ``text`` as a subscription filter."""
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode("utf-8", "surrogatepass"))
        if used > MAX_FILTER_BYTES:
            size = len(text.encode("utf-8", "surrogatepass"))
            raise FilterSyntaxError(
                text, index, f"filter is {size} bytes of UTF-8; the limit is {MAX_FILTER_BYTES}"
            )
    parse_filter(text)


_parse_cached = functools.lru_cache(maxsize=1024)(parse_filter)


def matches(text: str, attributes: Mapping[str, str]) -> bool:
    """Whether a message with ``attributes`` passes filter ``text`` (parses are cached)."""
    return _parse_cached(text).matches(attributes)


def conjoin(*texts: str) -> str:
    """AND the given filters together, skipping empty ones; the result parses.

    Operands whose top level is an AND or OR chain are parenthesised (unless already wrapped in
    one group) so that no AND/OR mixing arises; a single remaining operand is returned as is.
    """
    bodies: list[str] = []
    operands: list[str] = []
    for text in texts:
        parser = _Parser(text)
        expr = parser.parse()
        if expr is None:
            continue
        body = text.strip(_WHITESPACE)
        bodies.append(body)
        needs_parens = isinstance(expr, And | Or) and not parser.is_wrapped()
        operands.append(f"({body})" if needs_parens else body)
    return bodies[0] if len(bodies) == 1 else " AND ".join(operands)
