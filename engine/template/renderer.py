"""`TemplateEngine`: the engine's entry point for rendering task properties.

Compiling a Pebble template (lex, parse, translate, let Jinja generate Python) is
far slower than rendering it, and a flow renders the same property for every task
run and loop iteration, so compiled templates sit in an LRU cache keyed by source
text. Every failure leaves as a `TemplateError` with a sentence for the user; the
missing-variable sentence is completed here because naming the full path needs
the render context.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Undefined

from engine.template.environment import KNOWN_NAMES, FastTemplate, JinjaTemplate, PebbleEnvironment
from engine.template.errors import TemplateError, TemplateSyntaxProblem
from engine.template.functions import MAX_RENDER_DEPTH, RenderState
from engine.template.lookups import MissingValueError
from engine.template.messages import missing_message
from engine.template.operators import MAX_TEXT, start_loop_budget
from engine.template.pebble_lexer import LexError, line_of
from engine.template.pebble_parser import ParseError
from engine.template.pebble_syntax import translate_expression, translate_template
from engine.template.services import TemplateServices

CACHE_SIZE = 4096


class TemplateEngine:
    """Renders Kestra (Pebble) templates with Kestra's semantics inside a Jinja sandbox."""

    def __init__(self) -> None:
        self._environment = PebbleEnvironment()
        self._compile = lru_cache(maxsize=CACHE_SIZE)(self._compile_template)
        self._compile_expression = lru_cache(maxsize=CACHE_SIZE)(self._compile_expression_uncached)

    # --- public API -----------------------------------------------------------------
    def render_value(self, value: Any, context: dict[str, Any], services: TemplateServices) -> Any:
        """Strings rendered; maps and lists rendered recursively (keys too); the rest as is."""
        if isinstance(value, str):
            return self.render_string(value, context, services)
        if isinstance(value, dict):
            return {self.render_value(k, context, services): self.render_value(v, context, services)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.render_value(item, context, services) for item in value]
        return value

    def render_string(self, text: str, context: dict[str, Any], services: TemplateServices) -> str:
        """One template rendered to text; text without `{{` or `{%` comes back untouched.

        Like the executor's own check, a lone `{#` (`${#array[@]}` in a shell script)
        does not make a string a template.
        """
        if "{{" not in text and "{%" not in text:
            return text
        return self._render(text, context, services, 0)

    def evaluate(self, expression: str, context: dict[str, Any], services: TemplateServices) -> Any:
        """A bare Pebble expression (no braces) evaluated to its Python value."""
        compiled = self._compile_expression(expression)
        start_loop_budget()
        state = RenderState(services, context, 0, self._render)
        variables = {**context, "fn__state": state}
        try:
            result = compiled(**variables)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            return result
        except Exception as exc:
            raise self._user_error(exc, context) from None

    # --- internals ------------------------------------------------------------------
    def _render(self, text: str, context: dict[str, Any], services: TemplateServices, depth: int) -> str:
        if depth > MAX_RENDER_DEPTH:
            raise TemplateError(f"render() is nested more than {MAX_RENDER_DEPTH} levels deep")
        if depth == 0:
            start_loop_budget()
        template = self._compile(text)
        try:
            rendered = template.render(context, RenderState(services, context, depth, self._render))
        except Exception as exc:
            raise self._user_error(exc, context) from None
        if len(rendered) > MAX_TEXT:  # a value printed whole (a huge list) is bounded as text is
            raise TemplateError(f"the rendered value has {len(rendered):,} characters, more than the "
                                f"{MAX_TEXT:,} a property may hold")
        return rendered

    def _user_error(self, exc: Exception, context: dict[str, Any]) -> TemplateError:
        if isinstance(exc, TemplateError):
            return exc
        if isinstance(exc, MissingValueError):
            return TemplateError(missing_message(exc, context))
        if isinstance(exc, RecursionError):
            return TemplateError("the template nests too deeply")
        return TemplateError(f"the template failed: {exc}" if str(exc) else "the template failed")

    def _compile_template(self, text: str) -> FastTemplate | JinjaTemplate:
        try:
            translation = translate_template(text, KNOWN_NAMES)
        except LexError as exc:
            raise _syntax_error(text, exc) from None
        except RecursionError:
            raise TemplateError("the template nests too deeply") from None
        if translation.fast is not None:
            return FastTemplate(translation.fast)
        try:
            return JinjaTemplate(self._environment.compile_template(translation.jinja, text))
        except TemplateError:
            raise
        except Exception as exc:  # Jinja's code generation is not expected to fail; never leak it
            raise TemplateError(f"the template cannot be compiled: {exc}") from None

    def _compile_expression_uncached(self, expression: str) -> Any:
        try:
            jinja_expression = translate_expression(expression, KNOWN_NAMES)
        except LexError as exc:
            raise _syntax_error(expression, exc) from None
        return self._environment.compile_jinja_expression(jinja_expression)


def _syntax_error(source: str, exc: LexError) -> TemplateError:
    if isinstance(exc, ParseError) and exc.plain:
        return TemplateError(exc.message)
    return TemplateSyntaxProblem(exc.message, line_of(source, exc.pos))
