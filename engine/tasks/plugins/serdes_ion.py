"""Kestra's Ion rows with their Java types kept: what the serdes tasks read and write.

engine/core/ion.py turns rows into template-friendly values (timestamps become
strings, decimals floats). A format conversion must not lose types, so here a row
keeps what Kestra's `FileSerde` (Jackson + Kestra's IonModule) would hold in Java:

- Ion timestamp, day precision or UTC midnight   -> `date`           (LocalDate)
- Ion timestamp in UTC or with unknown offset    -> aware `datetime` (Instant)
- Ion timestamp with another offset              -> aware `datetime` (ZonedDateTime)
- `LocalDateTime::"..."` (and the other java.time annotations Kestra writes) -> naive
  `datetime`, `time`, aware `datetime`/`time`
- decimal -> `Decimal`, float -> `float`, int -> `int`, blob/clob -> `bytes`

Writing does the reverse, as Kestra's IonModule does: dates and instants as Ion
timestamps, local date-times and times as annotated strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from amazon.ion import simpleion
from amazon.ion.core import IonType, TimestampPrecision
from amazon.ion.exceptions import IonException
from amazon.ion.simple_types import IonPyNull
from amazon.ion.symbols import SymbolToken

from engine.core.ion import write_value

_READ_ERRORS = (IonException, ValueError, TypeError, IndexError, KeyError)


class IonRowError(ValueError):
    """A line of a row file that is not one Ion value (the message says which line)."""


def read_rows(path: Path, convert: Callable[[Any], Any] | None = None) -> Iterator[Any]:
    """The typed values of an Ion row file, one per value, in order (a value may span lines).

    `convert` replaces `to_typed` for a reader that needs the raw amazon-ion values."""
    convert = convert or to_typed
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        pending: list[str] = []
        first_line = 0
        for number, line in enumerate(handle, start=1):
            if not pending and not line.strip():
                continue
            if not pending:
                first_line = number
            pending.append(line)
            try:
                values = simpleion.loads("".join(pending), single_value=False)
            except _READ_ERRORS:
                if len(pending) < 50:  # Kestra writes one value a line; allow a pretty-printed one
                    continue
                raise IonRowError(f"line {first_line} is not an Ion value") from None
            pending = []
            for value in values:
                yield convert(value)
        if pending:
            try:
                values = simpleion.loads("".join(pending), single_value=False)
            except _READ_ERRORS as exc:
                raise IonRowError(f"line {first_line} is not an Ion value ({exc})") from None
            for value in values:
                yield convert(value)


def to_typed(value: Any) -> Any:
    """An amazon-ion value as the plain Python type Kestra's Java reader would give it."""
    if value is None or isinstance(value, IonPyNull):
        return None
    ion_type = getattr(value, "ion_type", None)
    annotations = [a.text if isinstance(a, SymbolToken) else str(a)
                   for a in getattr(value, "ion_annotations", ()) or ()]
    if ion_type is IonType.BOOL or isinstance(value, bool):
        return bool(value)
    if isinstance(value, SymbolToken):
        return value.text
    if isinstance(value, str):
        return _annotated(str(value), annotations)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_typed(v) for v in value]
    return value


def _annotated(text: str, annotations: list[str]) -> Any:
    """Kestra's IonParser: a java.time type name as annotation says how to parse the string."""
    kind = annotations[0] if annotations else ""
    try:
        if kind in ("LocalDateTime", "OffsetDateTime", "ZonedDateTime", "Instant"):
            return datetime.fromisoformat(text.split("[", 1)[0].replace("Z", "+00:00"))
        if kind == "LocalDate":
            return date.fromisoformat(text)
        if kind in ("LocalTime", "OffsetTime"):
            return time.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return text


def _timestamp(value: datetime) -> date | datetime:
    """Day precision (or a UTC midnight) is a LocalDate; UTC or unknown offset an Instant."""
    precision = getattr(value, "precision", None)
    plain = datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                     value.microsecond, tzinfo=value.tzinfo)
    if precision is not None and precision.value <= TimestampPrecision.DAY.value:
        return plain.date()
    offset = plain.utcoffset()
    if offset is None or offset == timedelta(0):
        plain = plain.replace(tzinfo=UTC)
        if plain.time() == time(0):
            return plain.date()
        return plain
    return plain


def row_line(value: Any) -> str:
    """One typed value as a line of Kestra's Ion row file (no newline)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return 'LocalDateTime::' + write_value(value.isoformat())
        offset = value.utcoffset()
        if offset == timedelta(0):
            return _instant(value)
        return 'ZonedDateTime::' + write_value(value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        kind = "LocalTime" if value.tzinfo is None else "OffsetTime"
        return kind + "::" + write_value(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, dict):
        return "{" + ",".join(f"{write_value(str(k))}:{row_line(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(row_line(v) for v in value) + "]"
    return write_value(value)


def _instant(value: datetime) -> str:
    """An Ion UTC timestamp, milliseconds as Kestra writes them, microseconds when there are any."""
    utc = value.astimezone(UTC)
    digits = 3 if utc.microsecond % 1000 == 0 else 6
    fraction = f"{utc.microsecond:06d}"[:digits]
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction + "Z"


class RowWriter:
    """Writes typed values to a text stream, one Ion value a line; counts them."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.count = 0

    def write(self, value: Any) -> None:
        self._handle.write((row_line(value) + "\n").encode("utf-8"))
        self.count += 1
