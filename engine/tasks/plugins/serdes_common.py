"""What every serdes task shares: the `from` file, option checks, Ion output, text rendering of values.

Kestra's serdes tasks all read one internal-storage file (`from`) and write one new file
whose URI is `outputs.<id>.uri`, with `size` the number of records. The text writers
(IonToCsv, IonToExcel) share Kestra's AbstractTextWriter: dates, times and date-times
are printed with Java patterns in a time zone.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_dates import JavaPattern, PatternError, system_zone_name, zone_of
from engine.tasks.plugins.serdes_ion import IonRowError, RowWriter, read_rows
from engine.tasks.properties import Kind, prop
from engine.tasks.storage_tasks import OutputWriter

SERDES = "io.kestra.plugin.serdes."
ON_BAD_LINES = ("ERROR", "WARN", "SKIP")

Problems = list[tuple[str | Position, str]]


def literal(value: Any) -> bool:
    """True when a property holds a plain value, not a Pebble template to render at run time."""
    return not (isinstance(value, str) and ("{{" in value or "{%" in value))


def check_choice(value: Any, allowed: tuple[str, ...], name: str) -> Problems:
    if value is None or not literal(value) or str(value).upper() in allowed:
        return []
    return [(name, f"'{name}' must be one of {', '.join(allowed)}, not '{value}'")]


def check_char(value: Any, name: str) -> Problems:
    if value is None or not literal(value) or len(str(value)) == 1:
        return []
    return [(name, f"'{name}' must be a single character, not '{value}'")]


def check_pattern(value: Any, name: str) -> Problems:
    if value is None or not literal(value):
        return []
    try:
        JavaPattern(str(value))
    except PatternError as exc:
        return [(name, f"'{name}': {exc}")]
    return []


@dataclass(kw_only=True, eq=False)
class SerdesTask(Task):
    """A conversion of one storage file (`from`) into another; helpers for its options."""

    OUTPUT_EXTENSION: ClassVar[str] = ".ion"

    from_: Any = prop(kind=Kind.STRING, required=True, name="from")

    def fail(self, message: str) -> TaskFailure:
        return TaskFailure(f"task '{self.id}' ({self.type.rsplit('.', 1)[-1]}): {message}")

    def input_file(self, ctx: TaskContext[Task]) -> tuple[str, Path]:
        uri = ctx.render_str(self.from_, "from").strip()
        path = ctx.storage_path(uri)
        if not path.is_file():
            raise self.fail(f"property 'from': no file at '{uri}'")
        return uri, path

    def choice(self, ctx: TaskContext[Task], value: Any, name: str, allowed: tuple[str, ...]) -> str:
        text = ctx.render_str(value, name).strip().upper()
        if text not in allowed:
            raise self.fail(f"property '{name}' must be one of {', '.join(allowed)}, not '{text}'")
        return text

    def char(self, ctx: TaskContext[Task], value: Any, name: str) -> str:
        text = ctx.render_str(value, name)
        if len(text) != 1:
            raise self.fail(f"property '{name}' must be a single character, not '{text}'")
        return text

    def encoding_of(self, ctx: TaskContext[Task], value: Any) -> str:
        name = ctx.render_str(value, "charset").strip()
        try:
            return codecs.lookup(name).name
        except (LookupError, ValueError, TypeError):
            raise self.fail(f"property 'charset': '{name}' is not a known character set "
                            f"(e.g. UTF-8, ISO-8859-1, windows-1252)") from None

    def zone(self, ctx: TaskContext[Task], value: Any) -> tzinfo:
        name = ctx.render_optional_str(value, "timeZoneId") or system_zone_name()
        try:
            return zone_of(name)
        except PatternError as exc:
            raise self.fail(f"property 'timeZoneId': {exc}") from None

    def pattern(self, ctx: TaskContext[Task], value: Any, name: str) -> JavaPattern:
        try:
            return JavaPattern(ctx.render_str(value, name))
        except PatternError as exc:
            raise self.fail(f"property '{name}': {exc}") from None

    def rows(self, path: Path, uri: str) -> Iterable[Any]:
        """The typed rows of an Ion file; a line that is no Ion fails the task, naming the file."""
        try:
            yield from read_rows(path)
        except IonRowError as exc:
            raise self.fail(f"{uri} is not an Ion file: {exc}") from None

    def store_rows(self, ctx: TaskContext[Task], rows: Iterable[Any]) -> dict[str, Any]:
        """Write rows as an Ion file in this task run's storage: Kestra's {uri, size} outputs."""
        writer = OutputWriter(ctx, ctx.task_id + ".ion")
        try:
            out = RowWriter(writer.handle)
            for row in rows:
                out.write(row)
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": out.count}


@dataclass(kw_only=True, eq=False)
class TextWriterTask(SerdesTask):
    """Kestra's AbstractTextWriter: how IonToCsv and IonToExcel print dates and times."""

    date_format: Any = prop("yyyy-MM-dd", kind=Kind.STRING)
    time_format: Any = prop("HH:mm:ss[XXX]", kind=Kind.STRING)
    date_time_format: Any = prop("yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]", kind=Kind.STRING)
    time_zone_id: Any = prop(None, kind=Kind.STRING)

    def validate(self) -> Problems:
        return (check_pattern(self.date_format, "dateFormat") + check_pattern(self.time_format, "timeFormat")
                + check_pattern(self.date_time_format, "dateTimeFormat"))

    def text_renderer(self, ctx: TaskContext[Task]) -> ValueText:
        return ValueText(self.pattern(ctx, self.date_format, "dateFormat"),
                         self.pattern(ctx, self.time_format, "timeFormat"),
                         self.pattern(ctx, self.date_time_format, "dateTimeFormat"),
                         self.zone(ctx, self.time_zone_id))


@dataclass(frozen=True)
class ValueText:
    """AbstractTextWriter.convert: a typed value as the text a CSV cell shows."""

    dates: JavaPattern
    times: JavaPattern
    date_times: JavaPattern
    zone: tzinfo

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            # Kestra prints instants and local date-times in UTC (its withZone(UTC) wins), and
            # zoned ones in the configured zone.
            if value.tzinfo is None:
                return self.date_times.format(value.replace(tzinfo=UTC))
            if value.utcoffset() == UTC.utcoffset(None):
                return self.date_times.format(value)
            return self.date_times.format(value.astimezone(self.zone))
        if isinstance(value, date):
            return self.dates.format(value)
        if isinstance(value, time):
            return self.times.format(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return java_double(value)
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        if isinstance(value, dict | list):
            return java_string(value)
        return str(value)


def java_double(value: float) -> str:
    """Double.toString for the common range: `1.0` not `1`, `1.0E10` for large ones."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    if value == int(value) and abs(value) < 1e7:
        return f"{int(value)}.0" if value or str(value)[0] != "-" else "-0.0"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}E{int(exponent)}"
    return text


def java_string(value: Any) -> str:
    """Java's toString of a Map or List (`{a=1, b=x}`, `[1, 2]`): what Kestra prints for nested values."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    return str(value)
