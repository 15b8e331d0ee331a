"""Pebble's and Kestra's filters, registered under their Pebble names, and the `is` tests.

Every filter receives real values: a missing one (`PebbleUndefined`) fails with the
undefined-variable error before the filter runs, except for `default`, which
exists to replace it. Null input gives null back, as Pebble's filters do, unless
the filter defines a meaning for it (`length`, `toJson`, `yaml`, `default`).
Argument names are Pebble's, so `date(format='yyyy', timeZone='UTC')` works.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

import jq as jq_module
import yaml as yaml_module
from jinja2 import Undefined

from engine.template import dates, filters_text
from engine.template.errors import TemplateError
from engine.template.filters_kestra import class_name, to_ion
from engine.template.lookups import MissingValueError
from engine.template.number_format import format_number, parse_number
from engine.template.values import describe_type, fail_if_undefined, is_number, print_value, to_json


def first(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1] or None
    sequence = _sequence(value, "first")
    return sequence[0] if sequence else None


def last(value: Any) -> Any:
    if isinstance(value, str):
        return value[-1:] or None
    sequence = _sequence(value, "last")
    return sequence[-1] if sequence else None


def _sequence(value: Any, name: str) -> list[Any] | tuple[Any, ...]:
    if isinstance(value, list | tuple):
        return value
    raise TemplateError(f"the '{name}' filter needs a list, got {describe_type(value)}")


def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return 0


def keys(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list | tuple):
        return list(range(len(value)))
    raise TemplateError(f"the 'keys' filter needs a map or a list, got {describe_type(value)}")


def values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    raise TemplateError(f"the 'values' filter needs a map, got {describe_type(value)}")


def default(value: Any, default: Any = None) -> Any:  # noqa: A002
    """The value, or `default` when it is missing, null, blank or an empty collection."""
    if isinstance(value, Undefined) or value is None:
        return default
    if isinstance(value, str) and not value.strip():
        return default
    if isinstance(value, list | tuple | dict) and not value:
        return default
    return value


def to_json_filter(value: Any) -> str:
    return "null" if value is None else to_json(value)


def jq(value: Any, expression: Any = None) -> list[Any]:
    """Kestra's `jq`: always a list of results; a JSON string input is parsed first."""
    if not isinstance(expression, str):
        raise TemplateError("the 'jq' filter expects an expression, e.g. jq('.items[0]')")
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            raise TemplateError(f"jq: the input is a string that is not JSON: {value[:60]!r}") from None
    else:
        data = json.loads(to_json(value))
    try:
        program = jq_module.compile(expression)
    except ValueError as exc:
        raise TemplateError(f"jq: cannot compile '{expression}': {_first_line(exc)}") from None
    try:
        return list(program.input_value(data).all())
    except ValueError as exc:
        raise TemplateError(f"jq: '{expression}' failed: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class _IndentedDumper(yaml_module.SafeDumper):
    """Lists indented under their key, as Jackson's YAML writer does (INDENT_ARRAYS)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def yaml_filter(value: Any) -> str:
    if value is None:
        return "null"
    plain = json.loads(to_json(value))
    text = yaml_module.dump(plain, Dumper=_IndentedDumper, default_flow_style=False,
                            sort_keys=False, allow_unicode=True, width=2**31 - 1)
    return text[:-4] if text.endswith("\n...\n") else text


def flatten(value: Any) -> list[Any]:
    items = _sequence(value, "flatten")
    out: list[Any] = []
    for item in items:
        if isinstance(item, list | tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


def chunk(value: Any, size: Any = None) -> list[list[Any]]:
    items = _sequence(value, "chunk")
    if not is_number(size) or size < 1:
        raise TemplateError("the 'chunk' filter expects a size of 1 or more, e.g. chunk(2)")
    width = int(size)
    return [list(items[i:i + width]) for i in range(0, len(items), width)]


def distinct(value: Any) -> Any:
    items = _sequence(value, "distinct")
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def reverse(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    return list(reversed(_sequence(value, "reverse")))


def _sorted(value: Any, name: str, descending: bool) -> list[Any]:
    items = list(_sequence(value, name))
    try:
        return sorted(items, reverse=descending)
    except TypeError:
        raise TemplateError(f"the '{name}' filter cannot order values of different kinds") from None


def sort(value: Any) -> list[Any]:
    return _sorted(value, "sort", descending=False)


def rsort(value: Any) -> list[Any]:
    return _sorted(value, "rsort", descending=True)


def slice_filter(value: Any, fromIndex: Any = 0, toIndex: Any = None) -> Any:
    """Pebble's `slice(fromIndex, toIndex)` on a list or a string."""
    if not isinstance(value, str | list | tuple):
        raise TemplateError(f"the 'slice' filter needs a list or a string, got {describe_type(value)}")
    start = int(fromIndex or 0)
    end = len(value) if toIndex is None else int(toIndex)
    if start < 0 or end > len(value) or start > end or (toIndex is not None and start == end):
        raise TemplateError(f"slice({start}, {end}) is out of range for a length of {len(value)}")
    part = value[start:end]
    return list(part) if isinstance(part, tuple) else part


def merge(value: Any, items: Any = None) -> Any:
    if isinstance(value, dict) and isinstance(items, dict):
        return {**value, **items}
    if isinstance(value, list | tuple):
        return [*value, *(items if isinstance(items, list | tuple) else [items])]
    raise TemplateError("the 'merge' filter joins two maps or two lists")


def join(value: Any, separator: Any = "") -> str:
    items = _sequence(value, "join") if not isinstance(value, dict) else list(value.values())
    return print_value(separator).join("null" if item is None else print_value(item) for item in items)


def abs_filter(value: Any) -> Any:
    if not is_number(value):
        raise TemplateError(f"the 'abs' filter needs a number, got {describe_type(value)}")
    return abs(value)


def round_filter(value: Any, precision: Any = 0) -> Any:
    """Half-up rounding; an integer when `precision` is 0."""
    if not is_number(value):
        raise TemplateError(f"the 'round' filter needs a number, got {describe_type(value)}")
    try:
        rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-int(precision)), rounding="ROUND_HALF_UP")
    except InvalidOperation:
        raise TemplateError("round: the precision is out of range") from None
    return int(rounded) if int(precision) <= 0 else float(rounded)


def number(value: Any, type: Any = None) -> Any:  # noqa: A002
    if not isinstance(value, str):
        raise TemplateError(f"the 'number' filter needs a string, got {describe_type(value)}")
    return parse_number(value, type)


def number_format(value: Any, format: Any = None) -> str:  # noqa: A002
    if not is_number(value):
        raise TemplateError(f"the 'numberFormat' filter needs a number, got {describe_type(value)}")
    return format_number(value, format)


def _strict(name: str, function: Callable[..., Any], null_in_null_out: bool = True,
            allow_undefined: bool = False) -> Callable[..., Any]:
    """A filter that refuses missing values and turns Python errors into TemplateErrors."""

    @wraps(function)
    def run(value: Any, *args: Any, **kwargs: Any) -> Any:
        if not allow_undefined:
            fail_if_undefined(value)
        for argument in (*args, *kwargs.values()):
            fail_if_undefined(argument)
        if value is None and null_in_null_out:
            return None
        try:
            return function(value, *args, **kwargs)
        except (TemplateError, MissingValueError):
            raise
        except TypeError as exc:
            raise TemplateError(f"the '{name}' filter was called wrongly: {_clean(exc)}") from None
        except Exception as exc:
            raise TemplateError(f"the '{name}' filter failed: {_first_line(exc)}") from None

    return run


def _clean(exc: TypeError) -> str:
    text = str(exc)
    return text.split("() ", 1)[1] if "() " in text else text


_FILTERS: dict[str, Callable[..., Any]] = {
    "abbreviate": filters_text.abbreviate, "abs": abs_filter, "base64decode": filters_text.base64decode,
    "base64encode": filters_text.base64encode, "capitalize": filters_text.capitalize, "chunk": chunk,
    "date": dates.format_date, "dateAdd": dates.date_add, "distinct": distinct,
    "endsWith": filters_text.ends_with, "escapeChar": filters_text.escape_char, "first": first,
    "flatten": flatten, "indent": filters_text.indent, "join": join, "jq": jq, "keys": keys,
    "last": last, "lower": filters_text.lower, "md5": filters_text.md5, "merge": merge,
    "nindent": filters_text.nindent, "number": number, "numberFormat": number_format,
    "replace": filters_text.replace, "reverse": reverse, "round": round_filter, "rsort": rsort,
    "sha1": filters_text.sha1, "sha256": filters_text.sha256, "sha512": filters_text.sha512,
    "slice": slice_filter, "slugify": filters_text.slugify, "sort": sort, "split": filters_text.split,
    "startsWith": filters_text.starts_with, "string": filters_text.to_string,
    "substringAfter": filters_text.substring_after, "substringAfterLast": filters_text.substring_after_last,
    "substringBefore": filters_text.substring_before, "substringBeforeLast": filters_text.substring_before_last,
    "timestamp": lambda v, **kw: dates.epoch(v, 1, **kw),
    "timestampMilli": lambda v, **kw: dates.epoch(v, 1_000, **kw),
    "timestampMicro": lambda v, **kw: dates.epoch(v, 1_000_000, **kw),
    "timestampNano": lambda v, **kw: dates.epoch(v, 1_000_000_000, **kw),
    "title": filters_text.title, "trim": filters_text.trim, "upper": filters_text.upper,
    "urldecode": filters_text.urldecode, "urlencode": filters_text.urlencode, "values": values,
    "className": class_name,
}
_NULL_AWARE: dict[str, Callable[..., Any]] = {
    "length": length, "toJson": to_json_filter, "json": to_json_filter, "jsonEncode": to_json_filter,
    "yaml": yaml_filter, "toIon": to_ion,
}

FILTERS: dict[str, Callable[..., Any]] = {
    **{name: _strict(name, f) for name, f in _FILTERS.items()},
    **{name: _strict(name, f, null_in_null_out=False) for name, f in _NULL_AWARE.items()},
    "default": _strict("default", default, null_in_null_out=False, allow_undefined=True),
}
