"""Kestra's assertion operators, with its semantics and its failure messages, word for word.

How values compare (Kestra renders `value` to text; Roost keeps one more type, numbers):

- `value` and `equalTo`/`notEqualTo`/`in`/`notIn` operands are rendered with one rule: a
  template that is a single `{{ expression }}` giving a number stays that number, giving
  null stays null (so `isNull` can hold); anything else is the rendered text, Kestra's way
  (lists and maps as compact JSON, booleans as `true`/`false`). YAML numbers stay numbers.
- Two numbers are equal when their values are (`5` equals `5.0`); otherwise both sides are
  compared as text, so `equalTo: 5` holds for a value that renders "5", as on Kestra.
- `greaterThan` and the like compare doubles: the operand is read as a number, the value is
  parsed as Java's `Double.parseDouble` would, or the assertion errs with Kestra's "Could
  not parse value as a Double". Messages print the operand as a Java double (`5.0`).
- `startsWith`, `endsWith`, `contains` compare the rendered text.

A failed check gives a result with Kestra's message (or the user's `errorMessage`); a check
that cannot be evaluated (a template error, a value that is not a number) is an error of
the assertion, and the results before it are kept, as Kestra's `Assertion.run` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.yaml_source import Position
from engine.template import TemplateEngine, TemplateError
from engine.template.services import TemplateServices
from engine.template.values import format_double, is_number, print_value
from engine.testing.suite import AssertionSpec

NO_ASSERTION = "no assertion to run found"


@dataclass(frozen=True)
class AssertionResult:
    """One operator's verdict on one assertion (Kestra's AssertionResult, plus the expression)."""

    operator: str
    expected: Any
    actual: Any
    success: bool
    task_id: str | None
    description: str | None
    error_message: str | None       # Kestra's message (or the user's errorMessage) when failed
    expression: str                 # the assertion's `value` as written
    position: Position | None = None

    def to_json(self) -> dict[str, Any]:
        """Kestra's JSON shape (`isSuccess`, `taskId`, ...) with `value`, the expression."""
        return {"operator": self.operator, "value": self.expression, "expected": _jsonable(self.expected),
                "actual": _jsonable(self.actual), "isSuccess": self.success, "taskId": self.task_id,
                "description": self.description, "errorMessage": self.error_message}


@dataclass(frozen=True)
class AssertionOutcome:
    """What one assertion gave: a result per operator checked, and what could not be checked."""

    results: tuple[AssertionResult, ...]
    errors: tuple[str, ...] = ()


class _CannotEvaluate(Exception):
    """An operand or value that cannot be checked (Kestra: IllegalVariableEvaluationException)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AssertionValues:
    """Renders assertion templates against a finished execution, with the typing rule above."""

    def __init__(self, templates: TemplateEngine, variables: Mapping[str, Any],
                 services: TemplateServices) -> None:
        self._templates = templates
        self._variables = dict(variables)
        self._services = services

    def typed(self, value: Any) -> Any:
        """A number, None, or text: what `value` (YAML as written) renders to."""
        if value is None or is_number(value):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return print_value(self._templates.render_value(value, self._variables, self._services))
        if not isinstance(value, str):
            return print_value(value)
        single = _SINGLE_EXPRESSION.match(value)
        raw = single["body"] if single else ""
        body = raw.strip()
        if (single and "{{" not in body and "}}" not in body and "{%" not in value
                and not raw.startswith("-") and not raw.endswith("-")):  # `{{- x -}}` trims: text
            result = self._templates.evaluate(body, self._variables, self._services)
            return result if result is None or is_number(result) else print_value(result)
        return self._templates.render_string(value, self._variables, self._services)

    def text(self, value: Any) -> str:
        """The rendered text of `value` (null prints as `null`)."""
        return as_text(self.typed(value))


_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<body>.*)\}\}\s*$", re.DOTALL)


def evaluate_assertion(spec: AssertionSpec, values: AssertionValues) -> AssertionOutcome:
    """Every operator of one assertion, in Kestra's order; stops at the first that cannot run."""
    results: list[AssertionResult] = []
    operator = "value"
    try:
        actual = values.typed(spec.value)
        user_message = values.text(spec.error_message) if spec.error_message is not None else None
        description = values.text(spec.description) if spec.description is not None else None

        def result(op: str, expected: Any, success: bool, message: str) -> AssertionResult:
            return AssertionResult(op, expected, actual, success, spec.task_id, description,
                                   None if success else (user_message or message), spec.expression,
                                   spec.position)

        for operator, operand in spec.operators:
            checked = _CHECKS[operator](operand, actual, spec.expression, values)
            if checked is not None:
                expected, success, message = checked
                results.append(result(operator, expected, success, message))
    except (TemplateError, _CannotEvaluate) as exc:
        return AssertionOutcome(tuple(results), (f"could not evaluate the assertion on "
                                                 f"'{spec.expression}' ({operator}): {exc.message}",))
    if not results:
        return AssertionOutcome((), (f"the assertion on '{spec.expression}': {NO_ASSERTION}",))
    return AssertionOutcome(tuple(results))


# --- the operators: (operand, actual, expression, values) -> (expected, success, message) ---
Check = Callable[[Any, Any, str, AssertionValues], "tuple[Any, bool, str] | None"]


def _is_null(operand: Any, actual: Any, expression: str, values: AssertionValues,
             *, negate: bool = False) -> tuple[Any, bool, str]:
    expect_null = _boolean(values.typed(operand), "isNotNull" if negate else "isNull")
    if negate:
        expect_null = not expect_null
    success = (actual is None) == expect_null
    message = (f"expected '{expression}' to be null but was '{as_text(actual)}'" if expect_null
               else f"expected '{expression}' to be not null but was 'null'")
    return ("isNotNull" if negate else "isNull"), success, message


def _is_not_null(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str]:
    return _is_null(operand, actual, expression, values, negate=True)


def _text_check(verb: str, test: Callable[[str, str], bool]) -> Check:
    def check(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str]:
        expected = values.text(operand)
        success = actual is not None and test(as_text(actual), expected)
        return expected, success, f"expected '{expression}' to {verb} '{expected}' but was '{as_text(actual)}'"
    return check


def _equal_to(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str]:
    expected = values.typed(operand)
    return (expected, values_equal(expected, actual),
            f"expected '{expression}' to equal '{as_text(expected)}' but was '{as_text(actual)}'")


def _not_equal_to(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str]:
    expected = values.typed(operand)
    return expected, not values_equal(expected, actual), f"expected '{expression}' to not equal '{as_text(expected)}'"


def _compare(words: str, test: Callable[[float, float], bool], operator: str) -> Check:
    def check(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str]:
        expected = _operand_number(values.typed(operand), operator)
        success = test(_actual_number(actual), expected)
        return (expected, success,
                f"expected '{expression}' to be {words} '{format_double(expected)}' but was '{as_text(actual)}'")
    return check


def _membership(negate: bool) -> Check:
    def check(operand: Any, actual: Any, expression: str, values: AssertionValues) -> tuple[Any, bool, str] | None:
        expected = _operand_list(operand, values, "notIn" if negate else "in")
        if not expected:
            return None  # Kestra runs no check for an empty list
        found = any(values_equal(item, actual) for item in expected)
        listed = "[" + ", ".join(as_text(item) for item in expected) + "]"
        verb = "to not contain" if negate else "to contain"
        return expected, (not found if negate else found), f"expected '{expression}' {verb} '{listed}' but was '{as_text(actual)}'"
    return check


_CHECKS: dict[str, Check] = {
    "isNull": _is_null,
    "isNotNull": _is_not_null,
    "endsWith": _text_check("end with", str.endswith),
    "startsWith": _text_check("start with", str.startswith),
    "equalTo": _equal_to,
    "contains": _text_check("contain", lambda actual, expected: expected in actual),
    "notEqualTo": _not_equal_to,
    "greaterThan": _compare("greater than", lambda a, e: a > e, "greaterThan"),
    "greaterThanOrEqualTo": _compare("greater than or equal to", lambda a, e: a >= e, "greaterThanOrEqualTo"),
    "lessThan": _compare("less than", lambda a, e: a < e, "lessThan"),
    "lessThanOrEqualTo": _compare("less than or equal to", lambda a, e: a <= e, "lessThanOrEqualTo"),
    "in": _membership(negate=False),
    "notIn": _membership(negate=True),
}


# --- values ------------------------------------------------------------------------------
def values_equal(expected: Any, actual: Any) -> bool:
    """Numbers by value, anything else by its rendered text; null equals only null."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if is_number(expected) and is_number(actual):
        if isinstance(expected, int) and isinstance(actual, int):
            return expected == actual
        return float(expected) == float(actual)
    return as_text(expected) == as_text(actual)


def as_text(value: Any) -> str:
    """How a value reads in a message and in text comparisons (Java's `%s`: null is `null`)."""
    return "null" if value is None else print_value(value)


_JAVA_DOUBLE = re.compile(r"^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$")


def parse_java_double(text: str) -> float | None:
    """Java's Double.parseDouble, or None: no underscores, no `inf`, a trailing `d`/`f` allowed."""
    stripped = text.strip(" \t\n\r\x0b\x0c\x00")
    match = _JAVA_DOUBLE.match(stripped)
    if match is None:
        return None
    body = stripped.rstrip("fFdD") if match.group(2) else stripped
    return float(body.replace("Infinity", "inf"))


def _actual_number(actual: Any) -> float:
    if is_number(actual):
        return float(actual)
    number = parse_java_double(as_text(actual)) if isinstance(actual, str) else None
    if number is None:
        raise _CannotEvaluate("Could not parse value as a Double")
    return number


def _operand_number(operand: Any, operator: str) -> float:
    if is_number(operand):
        return float(operand)
    number = parse_java_double(operand) if isinstance(operand, str) else None
    if number is None:
        raise _CannotEvaluate(f"{operator} compares numbers; '{as_text(operand)}' is not a number")
    return number


def _operand_list(operand: Any, values: AssertionValues, operator: str) -> list[Any]:
    if isinstance(operand, list):
        return [values.typed(item) for item in operand]
    text = values.text(operand)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list):
        raise _CannotEvaluate(f"{operator} needs a list of values; '{text}' is not one")
    return [item if item is None or is_number(item) else print_value(item) for item in parsed]


def _boolean(value: Any, operator: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise _CannotEvaluate(f"{operator} takes true or false, not '{as_text(value)}'")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Sequence):
        return [_jsonable(item) for item in value]
    return as_text(value)
