"""Kestra's row files: Amazon Ion text, one value per line, read and written as plain Python.

Kestra's storage tasks (FilterItems, DeduplicateItems, the JDBC and file-format
plugins) exchange `.ion` files: one Ion text value per line, usually a struct.
Parsing is done by the `amazon-ion` package; its values are Ion-flavoured
subclasses (`IonPyNull` is not None, symbols are tuples), so every value is
turned into the plain types templates know: dict, list, str, int, float, bool,
None. Timestamps become ISO-8601 strings, blobs and clobs text (UTF-8, replaced
where invalid), as Kestra's JSON views of Ion rows show them.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyNull
from amazon.ion.symbols import SymbolToken


class IonError(ValueError):
    """A line that is not one Ion text value."""


def read_value(line: str) -> Any:
    """The one Ion value on `line`, as plain Python; raises IonError when it is not Ion text."""
    try:
        values = simpleion.loads(line, single_value=False)
    except (IonException, ValueError, TypeError, IndexError, KeyError) as exc:
        raise IonError(f"not an Ion value: {exc}") from None
    if len(values) != 1:
        raise IonError(f"expected one Ion value on the line, found {len(values)}")
    return to_plain(values[0])


def read_lines(lines: Iterator[str]) -> Iterator[Any]:
    """Plain values of an Ion row file's non-blank lines, in order."""
    for line in lines:
        if line.strip():
            yield read_value(line)


def to_plain(value: Any, *, keep_datetimes: bool = False) -> Any:
    """An amazon-ion value (or a plain one) with every Ion wrapper removed; timestamps as ISO
    text, or as datetimes with `keep_datetimes` (templates print those as Kestra's Instants)."""
    if value is None or isinstance(value, IonPyNull):
        return None
    if isinstance(value, bool) or getattr(value, "ion_type", None) is IonType.BOOL:
        return bool(value)
    if isinstance(value, SymbolToken):
        return value.text
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # 'n'/'N'/'F' for NaN and infinities
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
        return float(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime) and keep_datetimes:
        return datetime.fromisoformat(value.isoformat())  # a plain datetime, not Ion's subclass
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_plain(v, keep_datetimes=keep_datetimes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v, keep_datetimes=keep_datetimes) for v in value]
    return value


def write_value(value: Any) -> str:
    """One plain value as compact Ion text, no newline: a line of a row file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "+inf" if value > 0 else "-inf"
        return repr(value) + ("" if "e" in repr(value) else "e0")
    if isinstance(value, Decimal):
        return simpleion.dumps(value, binary=False, omit_version_marker=True)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z") if value.tzinfo else value.isoformat() + "-00:00"
    if isinstance(value, bytes):
        return "{{" + base64.b64encode(value).decode("ascii") + "}}"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(k))}:{write_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(write_value(v) for v in value) + "]"
    return _string(str(value))


def _string(text: str) -> str:
    """An Ion string literal: JSON's escapes are Ion's, and non-ASCII is written as \\u escapes."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code > 0xFFFF:
            out.append(f"\\U{code:08x}")
        elif code > 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
