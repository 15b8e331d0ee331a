"""Pebble's operators as functions the compiled templates call.

The Pebble-to-Jinja translation turns every operator into one of these calls, so
the Pebble meaning is kept exactly instead of Python's: `+` concatenates when a
side is a string, `/` between integers truncates (Java), `==` compares numbers by
value, `~` prints both sides as Kestra does, `..` is an inclusive range, `??`
falls back on a missing or null value without evaluating the fallback otherwise.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from jinja2 import Undefined, pass_context
from jinja2.runtime import Context
from jinja2.utils import Namespace, missing

from engine.template.errors import TemplateError
from engine.template.lookups import PebbleUndefined
from engine.template.values import describe_type, fail_if_undefined, is_number, print_value, truthy

#: The largest list a range may build; Jinja's sandbox uses the same bound.
MAX_RANGE = 100_000
#: The longest text `~` and `+` may build.
MAX_TEXT = 64 * 1024 * 1024
#: Loop iterations (and range items) one render may make in all; nested loops would never end.
MAX_LOOP_ITERATIONS = 5_000_000
_loop_budget = threading.local()


def start_loop_budget() -> None:
    """Called when a top-level render begins (each thread renders one template at a time)."""
    _loop_budget.left = MAX_LOOP_ITERATIONS


class Box:
    """A present value wrapped so that `or` cannot mistake a falsy value for a missing one."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def present(value: Any) -> Box | None:
    """For `a ?? b`: `a` boxed unless it is missing or null."""
    if value is None or isinstance(value, Undefined):
        return None
    return Box(value)


def defined_box(value: Any) -> Box | None:
    """For `a ??? b`: `a` boxed unless it is missing (null counts as a value)."""
    if isinstance(value, Undefined):
        return None
    return Box(value)


def box(value: Any) -> Box:
    return Box(value)


def unbox(boxed: Box) -> Any:
    return boxed.value


def _numbers(op: str, left: Any, right: Any) -> None:
    fail_if_undefined(left)
    fail_if_undefined(right)
    if not (is_number(left) and is_number(right)):
        raise TemplateError(f"'{op}' needs two numbers, got {_show(left)} and {_show(right)}")


def _show(value: Any) -> str:
    text = print_value(value) if not isinstance(value, Undefined) else "?"
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{describe_type(value)} ({text!r})" if value is not None else "null"


def add(left: Any, right: Any) -> Any:
    fail_if_undefined(left)
    fail_if_undefined(right)
    if isinstance(left, str) or isinstance(right, str):
        return _bounded_text(_java_string(left) + _java_string(right))
    if isinstance(left, list):
        return left + (list(right) if isinstance(right, list | tuple) else [right])
    _numbers("+", left, right)
    return left + right


def subtract(left: Any, right: Any) -> Any:
    if isinstance(left, list):
        fail_if_undefined(right)
        removed = right if isinstance(right, list | tuple) else [right]
        return [item for item in left if item not in removed]
    _numbers("-", left, right)
    return left - right


def multiply(left: Any, right: Any) -> Any:
    _numbers("*", left, right)
    # Java's long wraps around; Python's int would grow without end (`{% set n = n * n %}` in a loop).
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 4096:
        raise TemplateError("'*' makes a number too large to compute")
    return left * right


def divide(left: Any, right: Any) -> Any:
    _numbers("/", left, right)
    if isinstance(left, int) and isinstance(right, int):
        if right == 0:
            raise TemplateError("division by zero")
        quotient = abs(left) // abs(right)
        return quotient if (left >= 0) == (right >= 0) else -quotient
    if right == 0:
        if left == 0:
            return math.nan
        return math.inf if (left > 0) == (math.copysign(1.0, right) > 0) else -math.inf
    return left / right


def modulo(left: Any, right: Any) -> Any:
    _numbers("%", left, right)
    if right == 0:
        if isinstance(left, int) and isinstance(right, int):
            raise TemplateError("division by zero")
        return math.nan
    if isinstance(left, float) or isinstance(right, float):
        return math.fmod(left, right)
    remainder = abs(left) % abs(right)
    return remainder if left >= 0 else -remainder


def negate(value: Any) -> Any:
    _numbers("-", value, 0)
    return -value


def positive(value: Any) -> Any:
    _numbers("+", value, 0)
    return value


def equals(left: Any, right: Any) -> bool:
    fail_if_undefined(left)
    fail_if_undefined(right)
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> int | None:
    fail_if_undefined(left)
    fail_if_undefined(right)
    if left is None or right is None:
        return None
    if is_number(left) and is_number(right):
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    raise TemplateError(f"'{op}' compares numbers (or two strings), got {_show(left)} and {_show(right)}")


def less(left: Any, right: Any) -> bool:
    result = _compare("<", left, right)
    return result is not None and result < 0


def less_equal(left: Any, right: Any) -> bool:
    result = _compare("<=", left, right)
    return result is not None and result <= 0


def greater(left: Any, right: Any) -> bool:
    result = _compare(">", left, right)
    return result is not None and result > 0


def greater_equal(left: Any, right: Any) -> bool:
    result = _compare(">=", left, right)
    return result is not None and result >= 0


def concat(*parts: Any) -> str:
    """`a ~ b` and string interpolation; null prints as nothing."""
    for part in parts:
        fail_if_undefined(part)
    return _bounded_text("".join(print_value(part) for part in parts))


def _bounded_text(text: str) -> str:
    # `{% set s = s ~ s %}` in a loop doubles a string 40 times: stop it before memory runs out.
    if len(text) > MAX_TEXT:
        raise TemplateError(f"a text built by the template exceeds {MAX_TEXT} characters")
    return text


def _java_string(value: Any) -> str:
    """`String.valueOf` as `+` uses it: null becomes "null"."""
    return "null" if value is None else print_value(value)


def contains(container: Any, item: Any) -> bool:
    """`container contains item` and `item in container`; a list on the right means all of them."""
    fail_if_undefined(container)
    fail_if_undefined(item)
    if container is None:
        return False
    if isinstance(container, dict):
        if isinstance(item, list | tuple):
            return all(_hashable(i) and i in container for i in item)
        return _hashable(item) and item in container
    if isinstance(container, list | tuple):
        if isinstance(item, list | tuple):
            return all(any(equals(i, c) for c in container) for i in item)
        return any(equals(item, c) for c in container)
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    raise TemplateError(f"'contains' and 'in' need a list, a map or a string, got {_show(container)}")


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def inclusive_range(start: Any, end: Any, step: Any = 1) -> list[Any]:
    """`1..5` and `range(1, 5)`: both ends included, as in Pebble; letters work too."""
    fail_if_undefined(start)
    fail_if_undefined(end)
    if isinstance(start, str) and isinstance(end, str) and len(start) == len(end) == 1:
        return [chr(c) for c in inclusive_range(ord(start), ord(end), step)]
    if not (is_number(start) and is_number(end) and is_number(step)):
        raise TemplateError(f"a range needs numbers, got {_show(start)} and {_show(end)}")
    if step == 0:
        raise TemplateError("a range step cannot be 0")
    count = math.floor((end - start) / step) + 1
    if count > MAX_RANGE:
        raise TemplateError(f"a range may hold at most {MAX_RANGE} items, this one has {count}")
    return _charge_loop([start + i * step for i in range(max(count, 0))])


def loop_items(value: Any) -> Any:
    """What `{% for x in value %}` walks: list items, or map entries with `.key` and `.value`."""
    fail_if_undefined(value)
    if value is None:
        return []
    if isinstance(value, dict):
        return _charge_loop([{"key": k, "value": v} for k, v in value.items()])
    if isinstance(value, list | tuple):
        return _charge_loop(value)
    raise TemplateError(f"'for' needs a list or a map, got {_show(value)}")


def _charge_loop(items: Any) -> Any:
    left = getattr(_loop_budget, "left", MAX_LOOP_ITERATIONS) - len(items)
    if left < 0:
        raise TemplateError(f"the template's loops run more than {MAX_LOOP_ITERATIONS} times in all; "
                            "loop over less")
    _loop_budget.left = left
    return items


def to_bool(value: Any) -> bool:
    return truthy(value)


@pass_context
def variable(context: Context, name: str) -> Any:
    """A context variable whose name Jinja reserves (`true`, `if`, ...)."""
    value = context.resolve_or_missing(name)
    return PebbleUndefined(name=name) if value is missing else value


def new_namespace() -> Namespace:
    """The holder of a template's `{% set %}` variables (see `pebble_parser.Scope`)."""
    return Namespace()


@pass_context
def set_variable(context: Context, namespace: Namespace, name: str) -> Any:
    """A `{% set %}` variable once assigned; until then, the context variable of that name."""
    try:
        return getattr(namespace, name)
    except AttributeError:
        value = context.resolve_or_missing(name)
        return PebbleUndefined(name=name) if value is missing else value


#: The helpers a compiled template calls, under the names the translator emits.
OPERATOR_GLOBALS: dict[str, Any] = {
    "fn__truthy": to_bool, "fn__present": present, "fn__defined_box": defined_box,
    "fn__box": box, "fn__unbox": unbox, "fn__add": add, "fn__sub": subtract,
    "fn__mul": multiply, "fn__div": divide, "fn__mod": modulo, "fn__neg": negate,
    "fn__pos": positive, "fn__eq": equals, "fn__lt": less, "fn__le": less_equal,
    "fn__gt": greater, "fn__ge": greater_equal, "fn__concat": concat,
    "fn__contains": contains, "fn__range": inclusive_range, "fn__loop": loop_items,
    "fn__var": variable, "fn__namespace": new_namespace, "fn__setvar": set_variable,
}
