"""Pebble templates translated into Jinja source, tag by tag.

`translate_template` walks the lexer's segments: text is copied, `{{ e }}` becomes
`{{ <jinja e> }}`, Pebble tags (`if`/`elseif`/`else`, `for` with `else`, `set`,
`filter`) become their Jinja equivalents with Pebble's truth and scoping rules, and
raw or verbatim bodies become string constants so nothing inside them is
evaluated. Blocks are checked here so an unclosed `{% if %}` is reported in Pebble's
terms with its line. Templates made only of text and plain variable lookups also
get a `fast` form the engine renders without Jinja at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.template.pebble_lexer import Segment, Token, split_template, tokenize
from engine.template.pebble_parser import (
    JINJA_RESERVED,
    Expr,
    ExpressionParser,
    KnownNames,
    ParseError,
    Scope,
    parse_expression,
)

#: Tags Pebble has but Kestra removed or Roost does not run.
_UNSUPPORTED_TAGS = {
    "macro": "'{% macro %}' is not supported in Roost templates",
    "block": "'{% block %}' is not supported in Roost templates",
    **{tag: f"'{{% {tag} %}}' is not available in Kestra templates"
       for tag in ("import", "include", "extends", "embed", "from", "parallel", "cache",
                   "autoescape", "flush")},
}
_CLOSERS = {"if": "endif", "for": "endfor", "filter": "endfilter"}


class VariablePath(tuple):  # type: ignore[type-arg]
    """A `{{ a.b['c'] }}` part of a fast template: keys from the context down."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Translation:
    """Jinja source for a template, plus its fast form when it has one."""

    jinja: str
    fast: tuple[str | VariablePath, ...] | None


@dataclass(slots=True)
class _Block:
    tag: str
    pos: int
    seen_else: bool = False
    variable: str | None = None


def translate_template(source: str, known: KnownNames) -> Translation:
    """Translate a whole template; raises LexError/ParseError with a source offset."""
    segments = split_template(source)
    return _Translator(known, _assigned_names(segments)).run(segments)


def translate_expression(source: str, known: KnownNames) -> str:
    """A bare Pebble expression (no braces) as a Jinja expression."""
    tokens, _, _ = tokenize(source, 0, None)
    return parse_expression(tokens, known, len(source)).src


def _assigned_names(segments: list[Segment]) -> frozenset[str]:
    return frozenset(
        str(s.tokens[1].value) for s in segments
        if s.kind == "tag" and len(s.tokens) > 1 and s.tokens[0].value == "set" and s.tokens[1].kind == "name"
    )


def _text(text: str) -> str:
    """Template text for Jinja; emitted as a constant when Jinja would read it differently."""
    if text.endswith("{") or "\r" in text:
        return "{{ " + repr(text) + " }}"
    return text


class _Translator:
    """One template's translation: the output, the open blocks and the names in scope."""

    def __init__(self, known: KnownNames, assigned: frozenset[str]) -> None:
        self.known = known
        self.scope = Scope(assigned=assigned)
        self.blocks: list[_Block] = []

    def run(self, segments: list[Segment]) -> Translation:
        out: list[str] = ["{% set fn__ns = fn__namespace() %}"] if self.scope.assigned else []
        fast: list[str | VariablePath] | None = [] if not self.scope.assigned else None
        for segment in segments:
            if segment.kind in ("text", "verbatim"):
                out.append(_text(segment.text) if segment.kind == "text" else "{{ " + repr(segment.text) + " }}")
                if fast is not None:
                    fast.append(segment.text)
            elif segment.kind == "print":
                expr = self.expression(segment.tokens, segment.pos)
                out.append("{{ " + expr.src + " }}")
                if fast is not None:
                    fast = [*fast, VariablePath(expr.path)] if expr.path is not None else None
            else:
                fast = None
                out.append(self.tag(segment))
        if self.blocks:
            block = self.blocks[-1]
            raise ParseError(f"'{{% {block.tag} %}}' is never closed with '{{% {_CLOSERS[block.tag]} %}}'",
                             block.pos)
        return Translation("".join(out), tuple(fast) if fast is not None else None)

    def expression(self, tokens: tuple[Token, ...], end: int) -> Expr:
        return parse_expression(tokens, self.known, end, self.scope)

    def tag(self, segment: Segment) -> str:
        tokens = segment.tokens
        if not tokens:
            raise ParseError("an empty '{% %}' tag", segment.pos)
        head, rest = tokens[0], tokens[1:]
        name = str(head.value)
        end = rest[-1].pos + 1 if rest else head.pos + len(name)
        if name == "if":
            self.blocks.append(_Block("if", segment.pos))
            return "{% if fn__truthy(" + self.expression(rest, end).src + ") %}"
        if name in ("elseif", "elif"):
            self.inside(name, ("if",), head.pos)
            return "{% elif fn__truthy(" + self.expression(rest, end).src + ") %}"
        if name == "else":
            self.inside(name, ("if", "for"), head.pos)
            self.blocks[-1].seen_else = True
            _nothing_after(rest)
            return "{% else %}"
        if name in ("endif", "endfor", "endfilter"):
            return self.close(name, rest, head.pos)
        if name == "for":
            return self.for_tag(rest, end, segment.pos, head)
        if name == "set":
            return self.set_tag(rest, end, head)
        if name == "filter":
            self.blocks.append(_Block("filter", segment.pos))
            return "{% filter " + ExpressionParser(rest, self.known, end, self.scope).filter_chain() + " %}"
        unsupported = _UNSUPPORTED_TAGS.get(name) or _UNSUPPORTED_TAGS.get(name[3:] if name.startswith("end") else "")
        raise ParseError(unsupported or f"unknown tag '{name}'", head.pos)

    def inside(self, name: str, allowed: tuple[str, ...], pos: int) -> None:
        if not self.blocks or self.blocks[-1].tag not in allowed:
            places = " or ".join(f"'{{% {a} %}}'" for a in allowed)
            raise ParseError(f"'{{% {name} %}}' outside of {places}", pos)
        if self.blocks[-1].seen_else:
            raise ParseError(f"'{{% {name} %}}' after '{{% else %}}'", pos)

    def close(self, name: str, rest: tuple[Token, ...], pos: int) -> str:
        opened = name[3:]
        if not self.blocks or self.blocks[-1].tag != opened:
            raise ParseError(f"'{{% {name} %}}' without a matching '{{% {opened} %}}'", pos)
        block = self.blocks.pop()
        if block.variable is not None:
            self.scope.loop_variables.pop()
        _nothing_after(rest)
        return "{% " + name + " %}"

    def for_tag(self, rest: tuple[Token, ...], end: int, pos: int, head: Token) -> str:
        variable = _new_name(rest[0] if rest else None, "'{% for %}'", head.pos)
        keyword = rest[1] if len(rest) > 1 else None
        if keyword is None or keyword.value != "in":
            raise ParseError("'{% for %}' expects 'for item in list'", keyword.pos if keyword else end)
        iterable = self.expression(rest[2:], end)
        self.blocks.append(_Block("for", pos, variable=variable))
        self.scope.loop_variables.append(variable)
        return "{% for " + variable + " in fn__loop(" + iterable.src + ") %}"

    def set_tag(self, rest: tuple[Token, ...], end: int, head: Token) -> str:
        variable = _new_name(rest[0] if rest else None, "'{% set %}'", head.pos)
        equals = rest[1] if len(rest) > 1 else None
        if equals is None or equals.kind != "punct" or equals.value != "=":
            raise ParseError("'{% set %}' expects 'set name = value'", equals.pos if equals else end)
        if variable in self.scope.loop_variables:
            raise ParseError(f"'{variable}' is the loop variable here and cannot be set", rest[0].pos)
        return "{% set fn__ns." + variable + " = " + self.expression(rest[2:], end).src + " %}"


def _nothing_after(rest: tuple[Token, ...]) -> None:
    if rest:
        raise ParseError(f"unexpected '{rest[0].value}'", rest[0].pos)


def _new_name(token: Token | None, what: str, fallback_pos: int) -> str:
    if token is None or token.kind != "name":
        raise ParseError(f"{what} needs a variable name", token.pos if token else fallback_pos)
    name = str(token.value)
    if name in JINJA_RESERVED or name.startswith("fn__") or not name.isidentifier():
        raise ParseError(f"'{name}' cannot be used as a variable name", token.pos)
    return name
