"""How template values print and convert, the way Kestra's Pebble writer does.

Kestra writes maps and lists as compact JSON (Jackson), booleans as `true`/`false`,
null as nothing, Java doubles with `Double.toString` (`3.0`, `0.93`, `1.0E7`) and
instants with `Instant.toString` (`2024-01-02T03:04:05.123Z`) and durations with
`Duration.toString` (`PT1M30S`, `PT36H`). Flows compare these strings, so Roost prints the same.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

from jinja2 import Undefined

_UTC_OFFSET = dt.timedelta(0)


def fail_if_undefined(value: Any) -> None:
    """Raise the undefined-variable error when `value` is a placeholder for a missing value."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def print_value(value: Any) -> str:
    """The text a `{{ ... }}` block writes for `value`."""
    if value is None:
        return ""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if cls is float:
        return format_double(value)
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return java_duration(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return str(value)  # Decimal (BigDecimal.toString keeps its scale) and anything else


def to_json(value: Any) -> str:
    """Compact JSON as Jackson writes it (non-ASCII kept, dates as ISO strings)."""
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def _jsonable(value: Any) -> Any:
    """A copy of `value` that `json.dumps` can write, failing on undefined placeholders."""
    if isinstance(value, dict):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return java_duration(value)
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    return print_value(key) if key is not None else "null"


def format_double(value: float) -> str:
    """Java's `Double.toString`: `3.0`, `0.93`, `1.0E7`, `1.5E-4`, `NaN`, `Infinity`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:  # cannot happen in this range, kept for safety
            text = f"{value:f}".rstrip("0")
        return text if "." in text else text + ".0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    exponent = len(digits) - 1 + int(digits_tuple.exponent)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def java_duration(value: dt.timedelta) -> str:
    """Java's `Duration.toString`: hours never fold into days (`PT36H`), each field carries
    the sign (`PT-1M-30S`), fractions lose trailing zeros (`PT0.1S`); zero is `PT0S`."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if micros == 0:
        return "PT0S"
    seconds, fraction = divmod(micros, 1_000_000)  # floor, as Java keeps 0 <= nanos < 1e9
    total = seconds + 1 if seconds < 0 and fraction else seconds
    sign = -1 if total < 0 else 1
    hours, rest = divmod(abs(total), 3600)           # Java's `/` and `%` truncate toward zero
    hours, minutes, secs = sign * hours, sign * (rest // 60), sign * (rest % 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if secs == 0 and fraction == 0:
        return text
    text += "-0" if seconds < 0 and fraction and secs == 0 else str(secs)
    if fraction:
        digits = f"{(1_000_000 - fraction) if seconds < 0 else fraction:06d}".rstrip("0")
        text += "." + digits
    return text + "S"


def format_datetime(value: dt.datetime) -> str:
    """`Instant.toString` for UTC values (`...05.123Z`), ISO with offset otherwise."""
    offset = value.utcoffset()
    if offset is None:
        return _iso_local(value)
    if offset == _UTC_OFFSET:
        return _iso_local(value.replace(tzinfo=None)) + "Z"
    return _iso_local(value.replace(tzinfo=None)) + value.isoformat()[-6:]


def _iso_local(value: dt.datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss` plus 0, 3 or 6 fraction digits, as Java prints nanos."""
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return base
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}"
    return f"{base}.{micros:06d}"


def truthy(value: Any) -> bool:
    """Whether a value counts as true in `if`, `and`, `or`, `not` and `? :`.

    Pebble expects booleans; Roost also accepts the strings `"true"`/`"false"`
    (what a rendered expression gives back), numbers and collections.
    """
    if value is True or value is False:
        return value  # type: ignore[return-value]
    if value is None:
        return False
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, str):
        lowered = value.strip().lower()
        return lowered not in ("", "false", "0", "null")
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, dict | list | tuple | set):
        return len(value) > 0
    return True


def describe_type(value: Any) -> str:
    """A short noun phrase for error messages: 'a string', 'a map', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dt.datetime | dt.date):
        return "a date"
    if callable(value):
        return "a function"
    return "a value"


def is_number(value: Any) -> bool:
    """Numbers as Pebble sees them: ints and floats, never booleans."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
