"""Numbers read and written the Java way: the `number` and `numberFormat` filters.

`number` follows commons-lang `NumberUtils.createNumber` (ints, decimals, `0x`
hex, `L`/`f`/`d` suffixes, exponents) or the type asked for (INT, LONG, FLOAT,
DOUBLE, BIGDECIMAL, BIGINTEGER). `numberFormat` follows `java.text.DecimalFormat`
patterns such as `#,##0.00`, `0.###`, `#%`, with half-even rounding.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from engine.template.errors import TemplateError

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdDlL]?$")
_INTEGER_TYPES = ("INT", "LONG", "BIGINTEGER")
_DECIMAL_TYPES = ("FLOAT", "DOUBLE")


def parse_number(text: str, kind: Any = None) -> Any:
    """A string as an int, a float or a Decimal; a TemplateError when it is not a number."""
    raw = text.strip()
    wanted = str(kind).upper() if kind else ""
    if wanted and wanted not in (*_INTEGER_TYPES, *_DECIMAL_TYPES, "BIGDECIMAL"):
        raise TemplateError(f"unknown number type '{kind}'; use INT, LONG, FLOAT, DOUBLE, BIGDECIMAL or BIGINTEGER")
    hexadecimal = re.match(r"^([+-]?)(?:0[xX]|#)([0-9a-fA-F]+)$", raw)
    if hexadecimal and wanted in ("", *_INTEGER_TYPES):
        return int(hexadecimal.group(1) + hexadecimal.group(2), 16)
    if not _NUMBER.match(raw):
        raise TemplateError(f"'{text}' is not a number")
    body = raw[:-1] if raw[-1] in "fFdDlL" else raw
    if wanted in _INTEGER_TYPES or (not wanted and raw[-1] in "lL"):
        if not re.match(r"^[+-]?\d+$", body):
            raise TemplateError(f"'{text}' is not an integer")
        return int(body)
    if wanted == "BIGDECIMAL":
        return Decimal(body)
    if wanted in _DECIMAL_TYPES or raw[-1] in "fFdD" or re.search(r"[.eE]", body):
        return float(body)
    return int(body)


def format_number(value: Any, pattern: Any = None) -> str:
    """`value` written with a DecimalFormat pattern (default `#,##0.###`)."""
    text = str(pattern) if pattern is not None else "#,##0.###"
    positive = text.split(";", 1)[0]
    match = re.match(r"^([^#0,.]*)([#0,]*)(?:\.([#0]*))?(.*)$", positive)
    if match is None or not match.group(2) and not match.group(3):
        raise TemplateError(f"'{text}' is not a number format")
    prefix, integer_part, fraction_part, suffix = match.group(1), match.group(2), match.group(3) or "", match.group(4)
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if "%" in prefix + suffix:
        number *= 100
    elif "\u2030" in prefix + suffix:
        number *= 1000
    min_fraction = fraction_part.count("0")
    max_fraction = len(fraction_part)
    try:
        rounded = number.quantize(Decimal(1).scaleb(-max_fraction), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise TemplateError("numberFormat: the number is too large for this format") from None
    sign = "-" if rounded < 0 else ""
    digits = f"{abs(rounded):f}"
    whole, _, fraction = digits.partition(".")
    fraction = fraction.rstrip("0")
    fraction = fraction + "0" * (min_fraction - len(fraction))
    min_integer = integer_part.replace(",", "").count("0")
    whole = whole.lstrip("0").rjust(min_integer, "0")
    if "," in integer_part:
        group = len(integer_part) - integer_part.rfind(",") - 1
        if group > 0:
            whole = _group(whole, group)
    body = whole + ("." + fraction if fraction else "")
    return f"{sign}{_literal(prefix)}{body or '0'}{_literal(suffix)}"


def _group(digits: str, size: int) -> str:
    groups: list[str] = []
    while len(digits) > size:
        groups.insert(0, digits[-size:])
        digits = digits[:-size]
    if digits:
        groups.insert(0, digits)
    return ",".join(groups)


def _literal(text: str) -> str:
    return text.replace("'", "")
