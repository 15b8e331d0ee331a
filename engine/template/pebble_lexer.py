"""Pebble's lexer: template text, tags, comments, verbatim blocks and expression tokens.

It follows Pebble's own `LexerImpl`: a tag ends at the first `}}` / `%}` met outside
brackets, so `{{ {'a': {'b': 1}} }}` works; strings keep their content untouched
(only `\\'`, `\\"` and `\\\\` are unescaped, as in Pebble); double-quoted strings may
interpolate `#{expression}`; `{% raw %}` / `{% verbatim %}` bodies are never lexed,
so nothing inside them is rewritten or evaluated; `-` next to a delimiter trims
whitespace on that side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class LexError(Exception):
    """A template that cannot be tokenized; `pos` is an offset in the source."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Token:
    """One expression token. `kind` is name, number, long, string, op or punct.

    A string's value is a tuple of parts: plain `str` pieces and, for each
    `#{...}` interpolation, a tuple of the tokens inside it.
    """

    kind: str
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a template: `text`, `verbatim`, `print` (`{{ }}`) or `tag` (`{% %}`)."""

    kind: str
    pos: int
    text: str = ""
    tokens: tuple[Token, ...] = ()


_START = re.compile(r"\{\{|\{%|\{#")
_VERBATIM_START = re.compile(r"\s*(raw|verbatim)\s*(-?)%\}")
_VERBATIM_END = {
    name: re.compile(r"\{%(-?)\s*end" + name + r"\s*(-?)%\}") for name in ("raw", "verbatim")
}
PRINT_CLOSE = re.compile(r"-?\}\}")
TAG_CLOSE = re.compile(r"-?%\}")
_INTERPOLATION_CLOSE = re.compile(r"\}")
_WHITESPACE = re.compile(r"\s*")
_NAME = re.compile(r"[^\W\d]\w*")
_LONG = re.compile(r"[0-9]+L")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SINGLE_QUOTED = re.compile(r"'([^'\\]*(?:\\.[^'\\]*)*)'", re.DOTALL)
_PUNCTUATION = "()[]{}?:.,|="
_PAIRS = {"(": ")", "[": "]", "{": "}"}

#: Pebble's and Kestra's operators; longest first so `???` wins over `??` and `?`.
OPERATORS = ("???", "??", "is not", "not in", "contains", "equals", "==", "!=", ">=", "<=",
             "..", "and", "or", "not", "is", "in", ">", "<", "+", "-", "*", "/", "%", "|", "~")


def _operator_pattern(op: str) -> str:
    pattern = r"\s+".join(re.escape(word) for word in op.split(" "))
    return pattern + r"(?![A-Za-z0-9_])" if op[-1].isalpha() else pattern


_OPERATOR = re.compile("|".join(_operator_pattern(op) for op in OPERATORS))


def line_of(source: str, pos: int) -> int:
    """1-based line number of an offset."""
    return source.count("\n", 0, pos) + 1


def split_template(source: str) -> list[Segment]:
    """Cut a template into text, verbatim, print and tag segments, applying `-` trims."""
    segments: list[Segment] = []
    pos, size, trim_next = 0, len(source), False
    while pos < size:
        match = _START.search(source, pos)
        text = source[pos:match.start() if match else size]
        if trim_next:
            text, trim_next = text.lstrip(), False
        if match is None:
            _add_text(segments, text, pos)
            break
        inner = match.end()
        if source.startswith("-", inner):
            text, inner = text.rstrip(), inner + 1
        _add_text(segments, text, pos)
        opener = match.group()
        if opener == "{#":
            end = source.find("#}", inner)
            if end < 0:
                raise LexError("a comment '{#' is never closed with '#}'", match.start())
            trim_next = end > inner and source[end - 1] == "-"
            pos = end + 2
            continue
        if opener == "{%" and (verbatim := _VERBATIM_START.match(source, inner)):
            pos, trim_next = _verbatim(source, segments, match.start(), verbatim)
            continue
        close = PRINT_CLOSE if opener == "{{" else TAG_CLOSE
        tokens, pos, trim_next = tokenize(source, inner, close, opener_pos=match.start())
        segments.append(Segment("print" if opener == "{{" else "tag", match.start(), tokens=tuple(tokens)))
    return segments


def _add_text(segments: list[Segment], text: str, pos: int) -> None:
    if text:
        segments.append(Segment("text", pos, text=text))


def _verbatim(source: str, segments: list[Segment], start: int, opening: re.Match[str]) -> tuple[int, bool]:
    name = opening.group(1)
    end = _VERBATIM_END[name].search(source, opening.end())
    if end is None:
        raise LexError(f"'{{% {name} %}}' is never closed with '{{% end{name} %}}'", start)
    body = source[opening.end():end.start()]
    if opening.group(2):
        body = body.lstrip()
    if end.group(1):
        body = body.rstrip()
    segments.append(Segment("verbatim", start, text=body))
    return end.end(), bool(end.group(2))


def tokenize(source: str, pos: int, close: re.Pattern[str] | None,
             opener_pos: int = 0) -> tuple[list[Token], int, bool]:
    """Tokens from `pos` up to `close` met outside brackets (or the end when `close` is None).

    Returns the tokens, the offset after the closing delimiter and whether that
    delimiter asked to trim the whitespace that follows (`-}}`).
    """
    tokens: list[Token] = []
    brackets: list[tuple[str, int]] = []
    size = len(source)
    while True:
        pos = _WHITESPACE.match(source, pos).end()  # type: ignore[union-attr]
        if pos >= size:
            if brackets:
                char, at = brackets[-1]
                raise LexError(f"'{char}' is never closed", at)
            if close is not None:
                raise LexError(_unclosed_message(source, opener_pos, close), opener_pos)
            return tokens, pos, False
        if not brackets and close is not None and (end := close.match(source, pos)):
            return tokens, end.end(), end.group().startswith("-")
        token, pos = _next_token(source, pos, brackets)
        tokens.append(token)


def _unclosed_message(source: str, opener_pos: int, close: re.Pattern[str]) -> str:
    if close is _INTERPOLATION_CLOSE:
        return "a '#{' interpolation is never closed with '}'"
    opener = source[opener_pos:opener_pos + 2]
    closer = "}}" if opener == "{{" else "%}"
    return f"'{opener}' is never closed with '{closer}'"


def _next_token(source: str, pos: int, brackets: list[tuple[str, int]]) -> tuple[Token, int]:
    if match := _OPERATOR.match(source, pos):
        return Token("op", " ".join(match.group().split()), pos), match.end()
    if match := _NAME.match(source, pos):
        return Token("name", match.group(), pos), match.end()
    if match := _LONG.match(source, pos):
        return Token("long", match.group()[:-1], pos), match.end()
    if match := _NUMBER.match(source, pos):
        return Token("number", match.group(), pos), match.end()
    char = source[pos]
    if char in _PUNCTUATION:
        _track_bracket(char, pos, brackets)
        return Token("punct", char, pos), pos + 1
    if match := _SINGLE_QUOTED.match(source, pos):
        text = match.group(1).replace("\\'", "'").replace("\\\\", "\\")
        return Token("string", (text,), pos), match.end()
    if char == '"':
        return _double_quoted(source, pos)
    if char == "'":
        raise LexError("a string is never closed", pos)
    raise LexError(f"unexpected character {char!r}", pos)


def _track_bracket(char: str, pos: int, brackets: list[tuple[str, int]]) -> None:
    if char in _PAIRS:
        brackets.append((char, pos))
    elif char in ")]}":
        if not brackets:
            raise LexError(f"unexpected '{char}'", pos)
        opener, _ = brackets.pop()
        if _PAIRS[opener] != char:
            raise LexError(f"'{opener}' is closed by '{char}'", pos)


def _double_quoted(source: str, pos: int) -> tuple[Token, int]:
    """A double-quoted string, split into text parts and `#{...}` interpolations."""
    parts: list[Any] = []
    buffer: list[str] = []
    index, size = pos + 1, len(source)

    def flush() -> None:
        if buffer:
            parts.append("".join(buffer).replace('\\"', '"').replace("\\\\", "\\"))
            buffer.clear()

    while index < size:
        char = source[index]
        if char == "\\" and index + 1 < size:
            buffer.append(source[index:index + 2])
            index += 2
        elif char == '"':
            flush()
            return Token("string", tuple(parts) or ("",), pos), index + 1
        elif source.startswith("#{", index):
            flush()
            inner, index, _ = tokenize(source, index + 2, _INTERPOLATION_CLOSE, opener_pos=index)
            if not inner:
                raise LexError("an empty '#{}' interpolation", index)
            parts.append(tuple(inner))
        else:
            buffer.append(char)
            index += 1
    raise LexError("a string is never closed", pos)
