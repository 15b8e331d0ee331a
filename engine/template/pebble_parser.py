"""Pebble expressions parsed with Pebble's precedence rules and written out as Jinja.

This is a precedence-climbing parser shaped like Pebble's `ExpressionParser`, so
`a ~ b | upper` filters the concatenation, `x ?? 'd' | upper` coalesces first, and
`c ? a : b` takes whole expressions as branches. Its output is a fully
parenthesised Jinja expression in which every operator is a call to a helper from
`operators.py` (so Pebble's arithmetic, comparison and concatenation rules apply),
every function is `fn__<name>(...)`, and Pebble-only syntax (`? :`, `??`, `???`,
`..`, `equals`, `contains`, string interpolation) has become plain Jinja. Because
the input is tokenized first, nothing inside a string literal is ever rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.template.lookups import UNSAFE_NAMES
from engine.template.pebble_lexer import LexError, Token

#: Binary operators and their Pebble precedence (all left-associative).
BINARY = {
    "or": 10, "and": 15, "is": 20, "is not": 20, "contains": 20, "in": 20, "not in": 20,
    "==": 30, "equals": 30, "!=": 30, ">": 30, "<": 30, ">=": 30, "<=": 30,
    "+": 40, "-": 40, "*": 60, "/": 60, "%": 60, "|": 100, "~": 110,
    "..": 120, "??": 120, "???": 120,
}
UNARY_PRECEDENCE = 500
_CALLS = {
    "+": "fn__add", "-": "fn__sub", "*": "fn__mul", "/": "fn__div", "%": "fn__mod",
    "==": "fn__eq", "equals": "fn__eq", ">": "fn__gt", "<": "fn__lt", ">=": "fn__ge",
    "<=": "fn__le", "~": "fn__concat", "..": "fn__range", "contains": "fn__contains",
}
_LITERALS: dict[str, Any] = {
    "true": True, "TRUE": True, "false": False, "FALSE": False,
    "null": None, "NULL": None, "none": None, "NONE": None,
}
#: Names Jinja treats specially; such context variables are read through fn__var().
JINJA_RESERVED = frozenset({
    "and", "or", "not", "in", "is", "if", "else", "elif", "for", "true", "false", "none",
    "True", "False", "None", "self", "loop", "super", "caller", "varargs", "kwargs",
    "import", "from", "as", "with", "without", "recursive", "block", "set", "macro",
    "call", "filter", "raw", "endraw", "context", "ignore", "missing", "scoped",
})
#: Jinja filters that reach Python objects or are not Pebble's; refused by name.
_JINJA_ONLY = frozenset({"attr", "format", "safe", "escape", "e", "map", "select", "reject",
                         "selectattr", "rejectattr", "groupby", "batch", "dictsort", "xmlattr",
                         "pprint", "forceescape", "items", "tojson", "wordwrap"})
_NO_VALUE = object()
MAX_NESTING = 60


class ParseError(LexError):
    """An expression Roost does not run; `plain` messages are shown without "syntax error"."""

    def __init__(self, message: str, pos: int, plain: bool = False) -> None:
        super().__init__(message, pos)
        self.plain = plain


@dataclass(frozen=True)
class KnownNames:
    """The functions, filters and tests a template may use, and hints for the others."""

    functions: frozenset[str]
    filters: frozenset[str]
    tests: frozenset[str]
    unsupported: dict[str, str] = field(default_factory=dict)


@dataclass
class Scope:
    """Names a template binds: `{% set %}` targets and the loop variables in force.

    Pebble's `set` updates a variable in the scope that already holds it, so
    `{% set total = total + x %}` inside a loop accumulates. Jinja would make a new
    loop-local variable instead, so set variables live in a namespace object
    (`fn__ns`) and are read through `fn__setvar`, which falls back on the context.
    """

    assigned: frozenset[str] = frozenset()
    loop_variables: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Expr:
    """A translated expression: Jinja source that is safe to embed anywhere.

    `path` is set when the expression is a plain variable lookup such as
    `taskrun.id` or `outputs['my-task'].value`; `value` holds a literal's value.
    """

    src: str
    path: tuple[Any, ...] | None = None
    value: Any = _NO_VALUE


def refuse_name(name: str, pos: int) -> ParseError:
    return ParseError(f"'{name}' is not allowed in a template", pos, plain=True)


def is_unsafe_key(key: Any) -> bool:
    return isinstance(key, str) and (key.startswith("__") or key in UNSAFE_NAMES)


class ExpressionParser:
    """Parses one token list into an `Expr`."""

    def __init__(self, tokens: tuple[Token, ...] | list[Token], known: KnownNames,
                 end_pos: int = 0, scope: Scope | None = None) -> None:
        self.tokens = tokens
        self.index = 0
        self.known = known
        self.scope = scope or Scope()
        self.end_pos = end_pos
        self.depth = 0

    # --- token stream -----------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def advance(self) -> Token:
        token = self.peek()
        if token is None:
            raise ParseError("the expression ends too early", self.end_pos)
        self.index += 1
        return token

    def at(self, kind: str, value: Any = None) -> bool:
        token = self.peek()
        return token is not None and token.kind == kind and (value is None or token.value == value)

    def expect(self, kind: str, value: str) -> Token:
        if not self.at(kind, value):
            raise self.unexpected(f"'{value}'")
        return self.advance()

    def unexpected(self, wanted: str | None = None) -> ParseError:
        token = self.peek()
        if token is None:
            message = "the expression ends too early"
            return ParseError(message + (f"; expected {wanted}" if wanted else ""), self.end_pos)
        shown = _show_token(token)
        message = f"unexpected {shown}" + (f"; expected {wanted}" if wanted else "")
        return ParseError(message, token.pos)

    def at_end(self) -> bool:
        return self.index >= len(self.tokens)

    # --- grammar ----------------------------------------------------------------
    def parse_all(self) -> Expr:
        """The whole token list as one expression."""
        if not self.tokens:
            raise ParseError("an empty expression", self.end_pos)
        expr = self.expression()
        if not self.at_end():
            raise self.unexpected()
        return expr

    def expression(self, min_precedence: int = 0) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError("the expression is nested too deeply", self.end_pos)
        try:
            expr = self._operand()
            while (token := self.peek()) is not None and token.kind == "op" \
                    and BINARY.get(token.value, -1) >= min_precedence:
                self.advance()
                expr = self._binary(token, expr)
            if min_precedence == 0 and self.at("punct", "?"):
                expr = self._ternary(expr)
            return expr
        finally:
            self.depth -= 1

    def _operand(self) -> Expr:
        token = self.peek()
        if token is None:
            raise self.unexpected("a value")
        if token.kind == "op" and token.value in ("not", "-", "+"):
            self.advance()
            return _unary(token.value, self.expression(UNARY_PRECEDENCE))
        if token.kind == "punct" and token.value == "(":
            self.advance()
            inner = self.expression()
            self.expect("punct", ")")
            return self._postfix(Expr(f"({inner.src})", inner.path, inner.value))
        if token.kind == "punct" and token.value == "[":
            return self._postfix(self._list())
        if token.kind == "punct" and token.value == "{":
            return self._postfix(self._map())
        return self._postfix(self._primary())

    def _binary(self, token: Token, left: Expr) -> Expr:
        op = token.value
        if op == "|":
            return self._filter(left)
        if op in ("is", "is not"):
            return self._test(left, negated=op == "is not")
        right = self.expression(BINARY[op] + 1)
        if op == "or" or op == "and":
            return Expr(f"(fn__truthy({left.src}) {op} fn__truthy({right.src}))")
        if op == "!=":
            return Expr(f"(not fn__eq({left.src}, {right.src}))")
        if op == "in":
            return Expr(f"fn__contains({right.src}, {left.src})")
        if op == "not in":
            return Expr(f"(not fn__contains({right.src}, {left.src}))")
        if op == "??":
            return Expr(f"fn__unbox(fn__present({left.src}) or fn__box({right.src}))")
        if op == "???":
            return Expr(f"fn__unbox(fn__defined_box({left.src}) or fn__box({right.src}))")
        return Expr(f"{_CALLS[op]}({left.src}, {right.src})")

    def _ternary(self, condition: Expr) -> Expr:
        self.expect("punct", "?")
        when_true = self.expression()
        self.expect("punct", ":")
        when_false = self.expression()
        return Expr(f"({when_true.src} if fn__truthy({condition.src}) else {when_false.src})")

    def _primary(self) -> Expr:
        token = self.advance()
        if token.kind == "name":
            if token.value in _LITERALS:
                value = _LITERALS[token.value]
                return Expr(repr(value), value=value)
            if self.at("punct", "("):
                return self._function(token)
            return _variable(token, self.scope)
        if token.kind == "long":
            return Expr(token.value, value=int(token.value))
        if token.kind == "number":
            value = float(token.value) if "." in token.value else int(token.value)
            return Expr(repr(value), value=value)
        if token.kind == "string":
            return self._string(token)
        self.index -= 1
        raise self.unexpected("a value")

    def _postfix(self, expr: Expr) -> Expr:
        while True:
            if self.at("punct", "."):
                self.advance()
                name = self.advance()
                if name.kind not in ("name", "op") or not str(name.value).isidentifier():
                    raise ParseError(f"a name must follow '.', not {_show_token(name)}", name.pos)
                if is_unsafe_key(name.value):
                    raise refuse_name(name.value, name.pos)
                if self.at("punct", "("):
                    raise ParseError(f"calling '.{name.value}(...)' on a value is not supported; "
                                     "use a filter instead", name.pos)
                expr = _attribute(expr, name.value, name.pos)
            elif self.at("punct", "["):
                opening = self.advance()
                key = self.expression()
                self.expect("punct", "]")
                if key.value is not _NO_VALUE and is_unsafe_key(key.value):
                    raise refuse_name(key.value, opening.pos)
                path = expr.path + (key.value,) if expr.path is not None and \
                    isinstance(key.value, str | int) and not isinstance(key.value, bool) else None
                expr = Expr(f"{expr.src}[{key.src}]", path)
            elif self.at("punct", "("):
                raise self.unexpected()
            else:
                return expr

    def _arguments(self) -> str:
        """`(a, b, name=c)` as Jinja call arguments (positional before named, as in Pebble)."""
        self.expect("punct", "(")
        parts: list[str] = []
        named = False
        while not self.at("punct", ")"):
            if parts:
                self.expect("punct", ",")
            token = self.peek()
            if token is not None and token.kind == "name" and self.peek(1) is not None \
                    and self.peek(1).kind == "punct" and self.peek(1).value == "=":  # type: ignore[union-attr]
                self.advance()
                self.advance()
                if not token.value.isidentifier() or token.value.startswith("fn__"):
                    raise ParseError(f"'{token.value}' cannot name an argument", token.pos)
                parts.append(f"{token.value}={self.expression().src}")
                named = True
            else:
                if named:
                    raise ParseError("positional arguments must come before named ones",
                                     token.pos if token else self.end_pos)
                parts.append(self.expression().src)
        self.expect("punct", ")")
        return f"({', '.join(parts)})"

    def _function(self, name: Token) -> Expr:
        function = name.value
        if function not in self.known.functions:
            raise self._unknown("function", function, name.pos)
        return Expr(f"fn__{function}{self._arguments()}")

    def _filter(self, left: Expr) -> Expr:
        name = self.advance()
        if name.kind != "name":
            raise ParseError(f"a filter name must follow '|', not {_show_token(name)}", name.pos)
        if name.value not in self.known.filters:
            raise self._unknown("filter", name.value, name.pos)
        arguments = self._arguments() if self.at("punct", "(") else ""
        return Expr(f"({left.src}|{name.value}{arguments})")

    def filter_chain(self) -> str:
        """`upper | replace(...)` as used by `{% filter %}`: Jinja's `upper|replace(...)`."""
        parts = []
        while True:
            name = self.advance()
            if name.kind != "name" or name.value not in self.known.filters:
                raise self._unknown("filter", str(name.value), name.pos)
            parts.append(name.value + (self._arguments() if self.at("punct", "(") else ""))
            if self.at_end():
                return "|".join(parts)
            self.expect("op", "|")

    def _test(self, left: Expr, negated: bool) -> Expr:
        name = self.advance()
        if name.kind not in ("name", "op") or name.value not in self.known.tests:
            raise self._unknown("test", str(name.value), name.pos)
        arguments = self._arguments() if self.at("punct", "(") else ""
        return Expr(f"({left.src} is {'not ' if negated else ''}{name.value}{arguments})")

    def _unknown(self, kind: str, name: str, pos: int) -> ParseError:
        hint = self.known.unsupported.get(name)
        if hint:
            return ParseError(hint, pos, plain=True)
        if name in _JINJA_ONLY:
            return ParseError(f"the {kind} '{name}' is not allowed in a template", pos, plain=True)
        return ParseError(f"unknown {kind} '{name}'", pos)

    def _list(self) -> Expr:
        self.expect("punct", "[")
        items: list[str] = []
        while not self.at("punct", "]"):
            if items:
                self.expect("punct", ",")
            items.append(self.expression().src)
        self.expect("punct", "]")
        return Expr(f"[{', '.join(items)}]")

    def _map(self) -> Expr:
        self.expect("punct", "{")
        entries: list[str] = []
        while not self.at("punct", "}"):
            if entries:
                self.expect("punct", ",")
            key = self.expression()
            self.expect("punct", ":")
            entries.append(f"{key.src}: {self.expression().src}")
        self.expect("punct", "}")
        return Expr("{" + ", ".join(entries) + "}")

    def _string(self, token: Token) -> Expr:
        parts = token.value
        if len(parts) == 1 and isinstance(parts[0], str):
            return Expr(repr(parts[0]), value=parts[0])
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(repr(part))
            else:
                pieces.append(ExpressionParser(part, self.known, token.pos, self.scope).parse_all().src)
        return Expr(f"fn__concat({', '.join(pieces)})")


def _unary(op: str, operand: Expr) -> Expr:
    if op == "not":
        return Expr(f"(not fn__truthy({operand.src}))")
    if operand.value is not _NO_VALUE and isinstance(operand.value, int | float) \
            and not isinstance(operand.value, bool):
        value = -operand.value if op == "-" else operand.value
        return Expr(f"({value!r})", value=value)
    return Expr(f"{'fn__neg' if op == '-' else 'fn__pos'}({operand.src})")


def _variable(token: Token, scope: Scope) -> Expr:
    name = token.value
    if name.startswith("fn__"):
        raise ParseError(f"names starting with 'fn__' are reserved ('{name}')", token.pos)
    if name == "self":
        raise refuse_name(name, token.pos)
    if name == "loop" or name in scope.loop_variables:
        return Expr(name)
    if name in scope.assigned:
        return Expr(f"fn__setvar(fn__ns, {name!r})")
    if name in JINJA_RESERVED or not name.isidentifier():
        return Expr(f"fn__var({name!r})", (name,))
    return Expr(name, (name,))


def _attribute(base: Expr, name: str, pos: int) -> Expr:
    if is_unsafe_key(name):
        raise refuse_name(name, pos)
    path = base.path + (name,) if base.path is not None else None
    return Expr(f"{base.src}[{name!r}]", path)


def _show_token(token: Token) -> str:
    if token.kind == "string":
        return "a string"
    return f"'{token.value}'"


def parse_expression(tokens: tuple[Token, ...] | list[Token], known: KnownNames,
                     end_pos: int = 0, scope: Scope | None = None) -> Expr:
    """Translate a whole token list; raises ParseError with the offending position."""
    return ExpressionParser(tokens, known, end_pos, scope).parse_all()

