"""The one error type a template problem surfaces as.

Everything that can go wrong while compiling or rendering a template (a syntax
mistake, an undefined variable, a refused attribute, a filter given the wrong kind
of value) ends up as a `TemplateError` whose `message` is a sentence meant for the
person who wrote the flow. The executor prefixes it with the task and property.
"""

from __future__ import annotations


class TemplateError(Exception):
    """A user-facing template problem; `message` never holds a Python traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateSyntaxProblem(TemplateError):
    """A template that cannot be parsed; `line` is 1-based inside the property."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(f"syntax error at line {line}: {problem}")
        self.problem = problem
        self.line = line
