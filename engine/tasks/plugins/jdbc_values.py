"""Database cells the way Kestra's JDBC plugin hands them on: in outputs (JSON) and in ION rows.

Kestra's cell converters turn each driver value into a java.time value, a BigDecimal, a
byte[], a Map or a List, and the same Java value is then written twice: by Jackson into the
task's outputs and by Kestra's Ion module into STORE files. The two disagree on dates:
outputs get ISO text (`2024-01-02T03:04:05+01:00`), Ion gets a timestamp for LocalDate and
Instant and an annotated string for the other java.time classes
(`ZonedDateTime::"2024-01-02T03:04:05+01:00[Europe/Paris]"`). `JavaTime` keeps both forms,
so a converted row can be written either way without knowing where it came from.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.core.errors import TaskFailure


@dataclass(frozen=True)
class JavaTime:
    """A java.time value that Kestra's Ion module writes as a string annotated with its class."""

    java_class: str
    """`ZonedDateTime`, `OffsetDateTime`, `LocalDateTime` or `LocalTime`: the Ion annotation."""
    ion_text: str
    json_text: str


@dataclass(frozen=True)
class Instant:
    """A java.time.Instant (SQLite's DATETIME columns): an Ion timestamp, ISO text with Z in outputs."""

    value: datetime


def zone_of(name: str | None) -> ZoneInfo:
    """The zone of `timeZoneId`, or the machine's (Kestra: the worker's default time zone)."""
    if name is None:
        return _local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TaskFailure(f"property 'timeZoneId': unknown time zone '{name}' "
                          "(use a zone id such as UTC or Europe/Paris)") from None


def _local_zone() -> ZoneInfo:
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[-1])
    except OSError:
        pass
    for name in candidates:
        if name and not Path(name).is_absolute():
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


# --- java.time values from Python ones ------------------------------------------------------
def java_local_time(value: time) -> str:
    """ISO_LOCAL_TIME: seconds always, the fraction only as long as it needs to be."""
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text


def _offset(value: datetime) -> str:
    delta = value.utcoffset() or timedelta(0)
    if not delta:
        return "Z"
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _local_text(value: datetime) -> str:
    return f"{value.date().isoformat()}T{java_local_time(value.time())}"


def local_date_time(value: datetime) -> JavaTime:
    """A timestamp without a zone (PostgreSQL's `timestamp`)."""
    text = _local_text(value.replace(tzinfo=None))
    return JavaTime("LocalDateTime", text, text)


def zoned_date_time(value: datetime, zone: ZoneInfo) -> JavaTime:
    """An instant seen in `zone`; a naive value is read as wall-clock time there (`atZone`)."""
    moment = value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    offset_text = _local_text(moment) + _offset(moment)
    return JavaTime("ZonedDateTime", f"{offset_text}[{zone.key}]", offset_text)


def offset_date_time_utc(value: datetime) -> JavaTime:
    """DuckDB's TIMESTAMPTZ: Kestra moves it to UTC (`withOffsetSameInstant(UTC)`)."""
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = _local_text(moment) + "Z"
    return JavaTime("OffsetDateTime", text, text)


def local_time(value: time, zone: tzinfo | None = None) -> JavaTime:
    """A time of day; one with an offset (PostgreSQL's timetz) is moved to `zone` first."""
    if value.tzinfo is not None and zone is not None:
        moment = datetime.combine(date(1970, 1, 1), value).astimezone(zone)
        value = moment.time()
    text = java_local_time(value.replace(tzinfo=None))
    return JavaTime("LocalTime", text, text)


def iso_interval(value: timedelta) -> str:
    """PostgreSQL intervals as Kestra writes them: `P0Y0M1DT2H3M4S`."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"P0Y0M{sign}{days}DT{sign}{hours}H{sign}{minutes}M{sign}{secs}S"


def common_cell(value: Any, zone: ZoneInfo) -> Any:
    """Kestra's AbstractCellConverter for what every driver returns alike.

    A timestamp is a java.sql.Timestamp there, shown in the task's zone (`atZone(zoneId)`);
    the dialects that map timestamps otherwise convert them before calling this."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, datetime):
        return zoned_date_time(value, zone)
    if isinstance(value, time):
        return local_time(value, zone)
    if isinstance(value, timedelta):
        return iso_interval(value)
    if isinstance(value, list | tuple):
        return [common_cell(v, zone) for v in value]
    if isinstance(value, dict):
        return {str(k): common_cell(v, zone) for k, v in value.items()}
    return value


def parse_json_cell(text: Any) -> Any:
    """JSON columns come back parsed (Kestra's JacksonMapper.toMap); text that is not JSON stays text."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# --- writing converted cells ----------------------------------------------------------------
def output_value(value: Any) -> Any:
    """A converted cell as Jackson writes it into outputs: plain JSON values, ISO text for time."""
    if isinstance(value, JavaTime):
        return value.json_text
    if isinstance(value, Instant):
        return _local_text(value.value.astimezone(UTC)) + "Z"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): output_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [output_value(v) for v in value]
    return value


def ion_value(value: Any) -> str:
    """A converted cell as Kestra's Ion module writes it into a STORE file."""
    if isinstance(value, JavaTime):
        return f"{value.java_class}::{_ion_text(value.ion_text)}"
    if isinstance(value, Instant):
        moment = value.value.astimezone(UTC)
        return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{moment.microsecond // 1000:03d}Z"
    if isinstance(value, datetime):
        return _ion_text(value)
    if isinstance(value, date):
        return value.isoformat()  # an Ion timestamp of day precision
    if isinstance(value, dict):
        return "{" + ",".join(f"{_ion_text(str(k))}:{ion_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(ion_value(v) for v in value) + "]"
    return _ion_text(value)


def ion_row(row: dict[str, Any]) -> str:
    """One row of a STORE file: an Ion struct on one line."""
    return ion_value(row)


def _ion_text(value: Any) -> str:
    """Ion text of one value; amazon.ion is imported by the first row written, not by loading
    a flow with a JDBC task (about 12 ms of the workbench's start)."""
    from engine.core.ion import write_value

    return write_value(value)
