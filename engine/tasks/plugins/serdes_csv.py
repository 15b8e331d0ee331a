"""Kestra's CSV serdes tasks: CsvToIon (reader) and IonToCsv (writer).

The reader gives every cell as a string (`\\N` is null) as Kestra's FastCSV-based
reader does: rows are structs keyed by the header, or lists with `header: false`.
The writer prints typed values as Kestra's AbstractTextWriter does (dates with
Java patterns) and quotes like FastCSV (only when needed unless told otherwise).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_common import (
    ON_BAD_LINES,
    SERDES,
    Problems,
    SerdesTask,
    TextWriterTask,
    ValueText,
    check_char,
    check_choice,
)
from engine.tasks.plugins.serdes_dates import PatternError
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter

ON_EMPTY_HEADER = ("DROP", "RENAME")
QUOTE_MODES = ("ALWAYS", "REQUIRED", "NON_NUMERIC")
LINE_DELIMITERS = ("\n", "\r\n", "\r")


@register
@dataclass(kw_only=True, eq=False)
class CsvToIon(SerdesTask):
    """Reads a CSV file into an Ion row file: one struct per line keyed by the header (lists without one)."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "csv.CsvToIon", SERDES + "csv.CsvReader")

    header: Any = prop(True, kind=Kind.BOOL)
    field_separator: Any = prop(",", kind=Kind.STRING)
    text_delimiter: Any = prop('"', kind=Kind.STRING)
    skip_empty_rows: Any = prop(False, kind=Kind.BOOL)
    error_on_different_field_count: Any = prop(
        None, kind=Kind.BOOL, deprecated="Kestra deprecated it: use onBadLines (ERROR, WARN or SKIP)")
    on_bad_lines: Any = prop("ERROR", kind=Kind.STRING)
    on_empty_header: Any = prop("DROP", kind=Kind.STRING)
    skip_rows: Any = prop(0, kind=Kind.INT)
    charset: Any = prop("UTF-8", kind=Kind.STRING)
    max_buffer_size: Any = prop(16 * 1024 * 1024, kind=Kind.INT)
    allow_extra_chars_after_closing_quote: Any = prop(False, kind=Kind.BOOL)
    max_field_size: Any = prop(16 * 1024 * 1024, kind=Kind.INT)

    def validate(self) -> Problems:
        return (check_char(self.field_separator, "fieldSeparator") + check_char(self.text_delimiter, "textDelimiter")
                + check_choice(self.on_bad_lines, ON_BAD_LINES, "onBadLines")
                + check_choice(self.on_empty_header, ON_EMPTY_HEADER, "onEmptyHeader"))

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        with_header = ctx.render_bool(self.header, "header")
        skip_rows = ctx.render_int(self.skip_rows, "skipRows") or 0
        on_bad = self.choice(ctx, self.on_bad_lines, "onBadLines", ON_BAD_LINES)
        rename = self.choice(ctx, self.on_empty_header, "onEmptyHeader", ON_EMPTY_HEADER) == "RENAME"
        max_field = ctx.render_int(self.max_field_size, "maxFieldSize") or 16 * 1024 * 1024
        options = {
            "delimiter": self.char(ctx, self.field_separator, "fieldSeparator"),
            "quotechar": self.char(ctx, self.text_delimiter, "textDelimiter"),
            "strict": not ctx.render_bool(self.allow_extra_chars_after_closing_quote,
                                          "allowExtraCharsAfterClosingQuote"),
        }
        skip_empty = ctx.render_bool(self.skip_empty_rows, "skipEmptyRows")
        # The csv module's field limit is per process; only ever raise it (Kestra allows 16 MB).
        max_field = min(max(max_field, 1), 2**31 - 2)
        csv.field_size_limit(max(csv.field_size_limit(), max_field + 1))
        encoding = "utf-8-sig" if charset == "utf-8" else charset
        with path.open("r", encoding=encoding, errors="strict", newline="") as handle:
            records = self._records(ctx, handle, options, skip_empty, on_bad, max_field)
            try:
                return self.store_rows(ctx, self._rows(ctx, records, with_header, skip_rows, on_bad, rename))
            except UnicodeDecodeError as exc:
                raise self.fail(f"{uri} is not valid {charset} text ({exc.reason} at byte "
                                f"{exc.start}); set 'charset' to the file's encoding") from None

    def _records(self, ctx: TaskContext[Task], handle: io.TextIOBase, options: dict[str, Any],
                 skip_empty: bool, on_bad: str, max_field: int) -> Iterator[tuple[int, list[str]]]:
        """(starting line number, fields) of each record; unparsable ones per onBadLines."""
        reader = csv.reader(handle, **options)
        line = 0
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self._bad_line(ctx, on_bad, f"Bad line encountered at line {start}: {exc}")
                continue
            line = start
            if not fields:
                if skip_empty:
                    continue
                fields = [""]
            if any(len(f) > max_field for f in fields):
                self._bad_line(ctx, on_bad, f"Bad line encountered at line {line}: a field is longer "
                                            f"than maxFieldSize ({max_field} characters)")
                continue
            yield line, fields

    def _bad_line(self, ctx: TaskContext[Task], on_bad: str, message: str) -> None:
        if on_bad == "ERROR":
            raise self.fail(message + " (set onBadLines to WARN or SKIP to skip such lines)")
        if on_bad == "WARN":
            ctx.warn(message)

    def _rows(self, ctx: TaskContext[Task], records: Iterator[tuple[int, list[str]]], with_header: bool,
              skip_rows: int, on_bad: str, rename: bool) -> Iterator[Any]:
        headers: list[str] = []
        kept = 0
        skipped = 0
        for line, fields in records:
            if with_header and line == 1:
                headers, kept = self._headers(ctx, fields, rename)
                continue
            if skipped < skip_rows:
                skipped += 1
                continue
            values = [None if f == "\\N" else f for f in fields]
            if not with_header:
                yield values
                continue
            if len(values) != len(headers):
                self._bad_line(ctx, on_bad, f"Bad line encountered (field count mismatch): Expected "
                                            f"{len(headers)}, got {len(values)} fields (line {line}).")
                continue
            yield {headers[i]: values[i] for i in range(kept)}

    def _headers(self, ctx: TaskContext[Task], names: list[str], rename: bool) -> tuple[list[str], int]:
        """Kestra's resolveHeaders: DROP trims trailing unnamed columns, RENAME names them col_N."""
        if rename:
            taken = set(names)
            out: list[str] = []
            for index, name in enumerate(names):
                if not name:
                    attempt, name = 1, f"col_{index}"
                    while name in taken:
                        attempt += 1
                        name = f"col_{index}_{attempt}"
                    taken.add(name)
                out.append(name)
            return out, len(out)
        named = [i for i, name in enumerate(names) if name]
        kept = (named[-1] if named else len(names) - 1) + 1
        if kept < len(names):
            ctx.warn(f"Dropped {len(names) - kept} trailing unnamed header column(s); their values are "
                     f"not emitted. Set onEmptyHeader=RENAME to keep them.")
        if len(set(names[:kept])) < kept:
            ctx.warn(f"Header has {kept - len(set(names[:kept]))} duplicate or empty column name(s) among "
                     f"the kept columns. Colliding columns share one output key and only the last value "
                     f"is kept. Set onEmptyHeader=RENAME to keep every column.")
        return list(names), kept


@register
@dataclass(kw_only=True, eq=False)
class IonToCsv(TextWriterTask):
    """Writes an Ion row file as CSV: a header from the first struct's keys, then one line per row."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "csv.IonToCsv", SERDES + "csv.CsvWriter")

    header: Any = prop(True, kind=Kind.BOOL)
    field_separator: Any = prop(",", kind=Kind.STRING)
    text_delimiter: Any = prop('"', kind=Kind.STRING)
    line_delimiter: Any = prop("\n", kind=Kind.STRING)
    always_delimit_text: Any = prop(False, kind=Kind.BOOL)
    quote_mode: Any = prop(None, kind=Kind.STRING)
    charset: Any = prop("UTF-8", kind=Kind.STRING)

    def validate(self) -> Problems:
        problems = (super().validate() + check_char(self.field_separator, "fieldSeparator")
                    + check_char(self.text_delimiter, "textDelimiter")
                    + check_choice(self.quote_mode, QUOTE_MODES, "quoteMode"))
        if isinstance(self.line_delimiter, str) and self.line_delimiter not in LINE_DELIMITERS \
                and "{{" not in self.line_delimiter:
            problems.append(("lineDelimiter", "'lineDelimiter' must be \\n, \\r\\n or \\r"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        charset = self.encoding_of(ctx, self.charset)
        with_header = ctx.render_bool(self.header, "header")
        line_end = ctx.render_str(self.line_delimiter, "lineDelimiter")
        if line_end not in LINE_DELIMITERS:
            raise self.fail("property 'lineDelimiter' must be \\n, \\r\\n or \\r")
        if self.quote_mode is not None:
            mode = self.choice(ctx, self.quote_mode, "quoteMode", QUOTE_MODES)
        else:
            mode = "ALWAYS" if ctx.render_bool(self.always_delimit_text, "alwaysDelimitText") else "REQUIRED"
        quoter = _Quoter(self.char(ctx, self.field_separator, "fieldSeparator"),
                         self.char(ctx, self.text_delimiter, "textDelimiter"), mode)
        texts = self.text_renderer(ctx)
        writer = OutputWriter(ctx, ctx.task_id + ".csv")
        count = 0
        try:
            for row in self.rows(path, uri):
                for record in self._records(row, count == 0 and with_header, with_header, texts):
                    writer.write((quoter.line(record) + line_end).encode(charset, errors="replace"))
                count += 1
        except PatternError as exc:
            writer.discard()
            raise self.fail(f"a date pattern does not fit a value: {exc} (see dateFormat, timeFormat, "
                            f"dateTimeFormat)") from None
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": count}

    def _records(self, row: Any, first_with_header: bool, with_header: bool,
                 texts: ValueText) -> Iterator[list[str | None]]:
        if isinstance(row, list):
            if with_header:
                raise self.fail("Invalid data of type List with header: these rows are lists, "
                                "set 'header: false' to write them")
            yield [texts.text(v) for v in row]
        elif isinstance(row, dict):
            if first_with_header:
                yield [str(k) for k in row]
            yield [texts.text(v) for v in row.values()]
        else:
            raise self.fail(f"a row is a {type(row).__name__}, not a struct or a list: CSV has one "
                            f"record per row")


@dataclass(frozen=True)
class _Quoter:
    """FastCSV's quoting: REQUIRED (RFC 4180), ALWAYS (nulls and empties too), NON_NUMERIC."""

    separator: str
    quote: str
    mode: str

    def field(self, value: str | None) -> str:
        if value is None:
            return '""'.replace('"', self.quote) if self.mode == "ALWAYS" else ""
        needed = any(c in value for c in (self.separator, self.quote, "\n", "\r"))
        if self.mode == "ALWAYS" or needed or (self.mode == "NON_NUMERIC" and value and not _numeric(value)):
            return self.quote + value.replace(self.quote, self.quote * 2) + self.quote
        return value

    def line(self, record: list[str | None]) -> str:
        return self.separator.join(self.field(v) for v in record)


def _numeric(value: str) -> bool:
    """IonToCsv's NON_NUMERIC test: an optional sign, digits and at most one decimal point."""
    body = value[1:] if value[:1] in "+-" else value
    return bool(body) and body.count(".") <= 1 and body.replace(".", "").isdigit() and body != "."
