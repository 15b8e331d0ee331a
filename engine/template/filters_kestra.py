"""Kestra's `toIon` and `className` filters, the way the Java values they describe print.

`toIon` writes what Kestra's Jackson Ion mapper writes: compact Ion text, field names as
symbols (`{int:1}`) or quoted ones, floats with an exponent (`1.5e0`). `className` names the
Java class Kestra would hold for the value: templates use it to branch on a value's kind.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

from engine.template.errors import TemplateError
from engine.template.values import format_datetime, format_double, java_duration

_SYMBOL = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_KEYWORDS = frozenset({"null", "true", "false", "nan"})  # would read back as values, not symbols
_INT_RANGE = range(-2**31, 2**31)


def to_ion(value: Any) -> str:
    """The `toIon` filter: a value as Ion text; null is `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _ion_float(value)
    if isinstance(value, Decimal):
        return str(value).replace("E", "d")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return json.dumps(java_duration(value))
    if isinstance(value, dict):
        return "{" + ",".join(f"{_field(k)}:{to_ion(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_ion(v) for v in value) + "]"
    raise TemplateError(f"Unable to transform to ion value '{value}'")


def _ion_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    text = format_double(value)   # Java's Double.toString, then Ion's mandatory exponent
    return text.replace("E", "e") if "E" in text else text + "e0"


def _field(key: Any) -> str:
    text = key if isinstance(key, str) else str(key)
    if _SYMBOL.match(text) and text not in _KEYWORDS:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def class_name(value: Any) -> str | None:
    """The `className` filter: the Java class of the value Kestra would hold (null for null).

    Maps are `java.util.LinkedHashMap` and lists `java.util.ArrayList`, what Jackson reads
    JSON into; a literal written in the template is a map or list of Pebble's own in Kestra.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if value in _INT_RANGE else "java.lang.Long"
    simple: list[tuple[type | tuple[type, ...], str]] = [
        (float, "java.lang.Double"), (Decimal, "java.math.BigDecimal"), (str, "java.lang.String"),
        (dt.datetime, "java.time.ZonedDateTime"), (dt.date, "java.time.LocalDate"),
        (dt.time, "java.time.LocalTime"), (dt.timedelta, "java.time.Duration"),
        (dict, "java.util.LinkedHashMap"), ((list, tuple), "java.util.ArrayList"),
    ]
    for kind, name in simple:
        if isinstance(value, kind):
            return name
    return "java.lang.Object"


KESTRA_FILTERS = {"toIon": to_ion, "className": class_name}
