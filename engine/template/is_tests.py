"""Pebble's `is` tests (`is defined`, `is null`, `is empty`, ...) and Kestra's `is json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jinja2 import Undefined

from engine.template.errors import TemplateError
from engine.template.values import describe_type, fail_if_undefined


def is_defined(value: Any) -> bool:
    return not isinstance(value, Undefined)


def is_null(value: Any) -> bool:
    fail_if_undefined(value)
    return value is None


def is_empty(value: Any) -> bool:
    fail_if_undefined(value)
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def _integer(value: Any, test: str) -> int:
    fail_if_undefined(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise TemplateError(f"'is {test}' needs a whole number, got {describe_type(value)}")
    return int(value)


def is_even(value: Any) -> bool:
    return _integer(value, "even") % 2 == 0


def is_odd(value: Any) -> bool:
    return _integer(value, "odd") % 2 == 1


def is_iterable(value: Any) -> bool:
    fail_if_undefined(value)
    return isinstance(value, list | tuple)


def is_map(value: Any) -> bool:
    fail_if_undefined(value)
    return isinstance(value, dict)


def is_json(value: Any) -> bool:
    fail_if_undefined(value)
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


TESTS: dict[str, Callable[[Any], bool]] = {
    "defined": is_defined, "null": is_null, "empty": is_empty, "even": is_even, "odd": is_odd,
    "iterable": is_iterable, "map": is_map, "json": is_json,
}
