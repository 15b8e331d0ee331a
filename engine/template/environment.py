"""The sandboxed Jinja environment that runs translated Pebble templates.

It starts from Jinja's `ImmutableSandboxedEnvironment` and narrows it further:
lookups go through Pebble's rules (`lookups.lookup`: map keys and list items only,
never Python attributes), the globals are only Roost's helpers and functions (no
`range`, `dict`, `cycler`, `joiner`, `namespace`, `lipsum`), the filters and tests
are only Pebble's and Kestra's, a missing value is a `PebbleUndefined`, and
`{{ }}` prints with Kestra's rules (`values.print_value`). Jinja's own template
cache is off: the engine keeps an LRU of compiled templates keyed by source.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Template
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.template.errors import TemplateSyntaxProblem
from engine.template.filters import FILTERS
from engine.template.functions import (
    FUNCTION_GLOBALS,
    FUNCTION_NAMES,
    UNSUPPORTED_FUNCTIONS,
    RenderState,
)
from engine.template.is_tests import TESTS
from engine.template.lookups import MissingValueError, PebbleUndefined, lookup
from engine.template.operators import OPERATOR_GLOBALS
from engine.template.pebble_parser import KnownNames
from engine.template.pebble_syntax import VariablePath
from engine.template.values import print_value

KNOWN_NAMES = KnownNames(
    functions=FUNCTION_NAMES,
    filters=frozenset(FILTERS),
    tests=frozenset(TESTS),
    unsupported=UNSUPPORTED_FUNCTIONS,
)


class PebbleEnvironment(ImmutableSandboxedEnvironment):
    """Jinja with Pebble's lookups, printing, filters, tests and functions, and nothing else."""

    def __init__(self) -> None:
        super().__init__(
            undefined=PebbleUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            finalize=print_value,
            cache_size=0,
            auto_reload=False,
        )
        self.filters = dict(FILTERS)
        self.tests = dict(TESTS)
        self.globals = {**OPERATOR_GLOBALS, **FUNCTION_GLOBALS}

    def getattr(self, obj: Any, attribute: str) -> Any:
        return lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        return lookup(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def compile_template(self, jinja_source: str, original: str) -> Template:
        """Compile translated source; a Jinja syntax error is reported against the original."""
        try:
            return self.from_string(jinja_source)
        except TemplateSyntaxError as exc:
            raise TemplateSyntaxProblem(str(exc.message or "invalid template"), exc.lineno or 1) from None

    def compile_jinja_expression(self, jinja_source: str) -> Any:
        try:
            return self.compile_expression(jinja_source, undefined_to_none=False)
        except TemplateSyntaxError as exc:
            raise TemplateSyntaxProblem(str(exc.message or "invalid expression"), 1) from None


class JinjaTemplate:
    """A template that needs Jinja: tags, filters, functions or operators."""

    __slots__ = ("_template", "_globals")

    def __init__(self, template: Template) -> None:
        self._template = template
        self._globals = dict(template.globals)  # a ChainMap in Jinja; copied once, not per render

    def render(self, context: dict[str, Any], state: RenderState) -> str:
        variables = {**self._globals, **context, "fn__state": state}
        jinja_context = self._template.new_context(variables, shared=True)
        return "".join(self._template.root_render_func(jinja_context))


class FastTemplate:
    """A template of text and plain lookups (`{{ taskrun.id }}-5`), rendered without Jinja.

    It applies the same `lookup` and `print_value` as the Jinja path, so results and
    error messages are identical; it only skips Jinja's per-render setup.
    """

    __slots__ = ("_parts",)

    def __init__(self, parts: tuple[str | VariablePath, ...]) -> None:
        self._parts = parts

    def render(self, context: dict[str, Any], state: RenderState) -> str:
        out = []
        for part in self._parts:
            if part.__class__ is str:
                out.append(part)
                continue
            name = part[0]
            value = context[name] if name in context else PebbleUndefined(name=name)
            for key in part[1:]:
                value = lookup(value, key)
            out.append(print_value(value))
        return "".join(out)


__all__ = ["KNOWN_NAMES", "FastTemplate", "JinjaTemplate", "MissingValueError", "PebbleEnvironment"]
