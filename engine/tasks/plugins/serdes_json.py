"""Kestra's JSON serdes tasks: JsonToIon and IonToJson, JSON lines by default (`newLine: true`).

Values keep their JSON types on the way in (integers, doubles, booleans, nulls,
strings, nested objects) as Jackson gives them to Kestra. On the way out, typed Ion
values are printed as Kestra's Jackson mapper prints them: instants in UTC (`...Z`),
zoned date-times moved to `timeZoneId`, local dates and times in ISO form, decimals
exactly, blobs in base64.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from amazon.ion.simple_types import IonPyNull
from amazon.ion.symbols import SymbolToken

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_common import SERDES, SerdesTask, java_double
from engine.tasks.plugins.serdes_ion import IonRowError, read_rows, to_typed
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter


@register
@dataclass(kw_only=True, eq=False)
class JsonToIon(SerdesTask):
    """Reads JSON lines (or, with `newLine: false`, one JSON document: an array gives one row per item)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "json.JsonToIon", SERDES + "json.JsonReader")

    charset: Any = prop("UTF-8", kind=Kind.STRING)
    new_line: Any = prop(True, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        lines = ctx.render_bool(self.new_line, "newLine")
        try:
            return self.store_rows(ctx, self._values(path, uri, charset, lines))
        except UnicodeDecodeError as exc:
            raise self.fail(f"{uri} is not valid {charset} text ({exc.reason}); set 'charset' "
                            f"to the file's encoding") from None

    def _values(self, path: Path, uri: str, charset: str, lines: bool) -> Iterator[Any]:
        if not lines:
            text = path.read_text(encoding=charset)
            try:
                document = json.loads(text)
            except json.JSONDecodeError as exc:
                raise self.fail(f"{uri} is not one JSON document (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg}); is it JSON lines? then set 'newLine: true'") from None
            yield from document if isinstance(document, list) else [document]
            return
        with path.open("r", encoding=charset, newline=None) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise self.fail(f"line {number} of {uri} is not a JSON value ({exc.msg} at column "
                                    f"{exc.colno}); for one JSON document over many lines set "
                                    f"'newLine: false'") from None


@register
@dataclass(kw_only=True, eq=False)
class IonToJson(SerdesTask):
    """Writes an Ion row file as JSON lines (`.jsonl`), or with `newLine: false` as one JSON array (`.json`)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "json.IonToJson", SERDES + "json.JsonWriter")

    charset: Any = prop("UTF-8", kind=Kind.STRING)
    new_line: Any = prop(True, kind=Kind.BOOL)
    time_zone_id: Any = prop(None, kind=Kind.STRING)
    should_keep_annotations: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        lines = ctx.render_bool(self.new_line, "newLine")
        encoder = JsonText(self.zone(ctx, self.time_zone_id))
        keep = ctx.render_bool(self.should_keep_annotations, "shouldKeepAnnotations")
        rows = read_rows(path, _with_annotations if keep else None)
        writer = OutputWriter(ctx, ctx.task_id + (".jsonl" if lines else ".json"))
        count = 0
        try:
            first: str | None = None
            for row in rows:
                text = encoder.text(row)
                count += 1
                if lines:
                    writer.write((text + "\n").encode(charset, errors="replace"))
                elif count == 1:
                    first = text
                else:
                    if count == 2:
                        writer.write(("[" + (first or "")).encode(charset, errors="replace"))
                    writer.write(("," + text).encode(charset, errors="replace"))
            if not lines and count == 1:
                writer.write((first or "").encode(charset, errors="replace"))
            elif not lines and count > 1:
                writer.write(b"]")
        except IonRowError as exc:
            writer.discard()
            raise self.fail(f"{uri} is not an Ion file: {exc}") from None
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": count}


def _with_annotations(value: Any) -> Any:
    """shouldKeepAnnotations: an annotated string becomes {ion_annotations: [...], value: text}."""
    if value is None or isinstance(value, IonPyNull):
        return None
    notes = [a.text if isinstance(a, SymbolToken) else str(a) for a in getattr(value, "ion_annotations", ()) or ()]
    if notes and isinstance(value, str | SymbolToken):
        return {"ion_annotations": notes, "value": value.text if isinstance(value, SymbolToken) else str(value)}
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _with_annotations(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and not isinstance(value, SymbolToken):
        return [_with_annotations(v) for v in value]
    return to_typed(value)


@dataclass(frozen=True)
class JsonText:
    """Compact JSON as Kestra's Jackson mapper writes it (dates as ISO strings, not numbers)."""

    zone: tzinfo

    def text(self, value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return '"' + java_double(value) + '"'
            return java_double(value)
        if isinstance(value, Decimal):
            return str(value) if value.is_finite() else f'"{value}"'
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bytes):
            return '"' + base64.b64encode(value).decode("ascii") + '"'
        if isinstance(value, datetime | date | time):
            return '"' + iso_text(value, self.zone) + '"'
        if isinstance(value, dict):
            return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + self.text(v)
                                  for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            return "[" + ",".join(self.text(v) for v in value) + "]"
        return json.dumps(str(value), ensure_ascii=False)


def iso_text(value: date | time, zone: tzinfo) -> str:
    """java.time's ISO text: instants in UTC with `Z`, zoned values moved to `zone`, fractions in 3s."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC) if value.utcoffset() == UTC.utcoffset(None) \
                else value.astimezone(zone)
        base = value.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(value.microsecond)
        if value.tzinfo is None:
            return base
        return base + _offset_text(value)
    if isinstance(value, date):
        return value.isoformat()
    base = value.strftime("%H:%M:%S") + _fraction(value.microsecond)
    return base + (_offset_text(value) if value.tzinfo is not None else "")


def _fraction(micros: int) -> str:
    if not micros:
        return ""
    return "." + (f"{micros // 1000:03d}" if micros % 1000 == 0 else f"{micros:06d}")


def _offset_text(value: datetime | time) -> str:
    offset = value.utcoffset()
    if offset is None:
        return ""
    seconds = int(offset.total_seconds())
    if seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
