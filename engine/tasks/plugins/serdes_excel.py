"""Kestra's Excel serdes tasks: ExcelToIon (one Ion file per sheet) and IonToExcel (openpyxl, .xlsx).

As in Kestra (Apache POI), numbers read from a sheet are doubles, date cells are ISO
date strings by default (`dateTimeRender`), and a header row names the fields. On the
way out, numbers, booleans and dates become typed cells (dates styled with
`dateFormat`), a string starting with `Formula:` becomes a formula, anything else text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar
from zipfile import BadZipFile

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.serdes_common import (
    SERDES,
    Problems,
    SerdesTask,
    TextWriterTask,
    check_choice,
    java_double,
)
from engine.tasks.plugins.serdes_ion import RowWriter
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.storage_tasks import OutputWriter

VALUE_RENDERS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_TIME_RENDERS = ("SERIAL_NUMBER", "FORMATTED_STRING", "UNFORMATTED_VALUE")


@register
@dataclass(kw_only=True, eq=False)
class ExcelToIon(SerdesTask):
    """Reads the sheets of an .xlsx file into Ion files: `uris` maps each sheet's title to its file."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "excel.ExcelToIon",)

    sheets_title: Any = prop(None, kind=Kind.LIST)
    charset: Any = prop("UTF-8", kind=Kind.STRING)
    value_render: Any = prop("UNFORMATTED_VALUE", kind=Kind.STRING)
    date_time_render: Any = prop("UNFORMATTED_VALUE", kind=Kind.STRING)
    header: Any = prop(True, kind=Kind.BOOL)
    skip_empty_rows: Any = prop(False, kind=Kind.BOOL)
    skip_rows: int = prop(0, kind=Kind.INT, dynamic=False)

    def validate(self) -> Problems:
        problems = (check_choice(self.value_render, VALUE_RENDERS, "valueRender")
                    + check_choice(self.date_time_render, DATE_TIME_RENDERS, "dateTimeRender"))
        if isinstance(self.skip_rows, int) and self.skip_rows < 0:
            problems.append(("skipRows", "'skipRows' must be 0 or more"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri, path = self.input_file(ctx)
        wanted = [str(ctx.render_str(t, "sheetsTitle")) for t in ctx.render_list(self.sheets_title, "sheetsTitle")] \
            if self.sheets_title is not None else []
        cells = _CellReader(self.choice(ctx, self.value_render, "valueRender", VALUE_RENDERS),
                            self.choice(ctx, self.date_time_render, "dateTimeRender", DATE_TIME_RENDERS))
        with_header = ctx.render_bool(self.header, "header")
        skip_empty = ctx.render_bool(self.skip_empty_rows, "skipEmptyRows")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
            raise self.fail(f"{uri} is not an Excel .xlsx file ({exc})") from None
        try:
            missing = [t for t in wanted if t not in book.sheetnames]
            if missing:
                ctx.warn(f"no sheet named {', '.join(missing)} in {uri}; its sheets are "
                         f"{', '.join(book.sheetnames)}")
            uris: dict[str, str] = {}
            total = 0
            for sheet in book.worksheets:
                if wanted and sheet.title not in wanted:
                    continue
                rows = self._sheet_rows(sheet.iter_rows(), cells, with_header, skip_empty)
                writer = OutputWriter(ctx, f"{ctx.task_id}_{_file_part(sheet.title)}.ion")
                out = RowWriter(writer.handle)
                try:
                    for row in rows:
                        out.write(row)
                except BaseException:
                    writer.discard()
                    raise
                uris[sheet.title] = writer.store()
                total += out.count
        finally:
            book.close()
        ctx.metric("sheets", "counter", float(len(book.sheetnames)))
        return {"uris": uris, "size": total}

    def _sheet_rows(self, rows: Iterator[Any], cells: _CellReader, with_header: bool,
                    skip_empty: bool) -> Iterator[Any]:
        headers: list[str] = []
        first, last = 0, -1
        skipped = 0
        for row in rows:
            if with_header and last == -1 and not headers:
                if skipped < self.skip_rows:
                    skipped += 1
                    continue
                present = [i for i, c in enumerate(row) if c.value is not None]
                first, last = (present[0], present[-1] + 1) if present else (0, 0)
                headers = [str(cells.value(row[i])) if i < len(row) and row[i].value is not None
                           else f"Column{i}" for i in range(first, last)]
                continue
            if not with_header and skipped < self.skip_rows:
                skipped += 1
                continue
            end = last
            if not (with_header and headers):
                # Without a header each row keeps its own cells (Kestra cuts every row to the
                # first one's width, which loses data).
                present = [i for i, c in enumerate(row) if c.value is not None]
                end = present[-1] + 1 if present else 0
            values = [cells.value(row[i]) if i < len(row) and row[i].value is not None else None
                      for i in range(first, end)]
            if skip_empty and all(v is None or v == "" for v in values):
                continue
            if with_header and headers:
                yield {h: (values[i] if i < len(values) else None) for i, h in enumerate(headers)}
            else:
                yield values


def _file_part(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", title) or "sheet"


@dataclass(frozen=True)
class _CellReader:
    """One cell's value per valueRender / dateTimeRender, as Kestra's POI code gives it."""

    value_render: str
    date_time_render: str

    def value(self, cell: Any) -> Any:
        raw = cell.value
        if isinstance(raw, datetime | date | time):
            if self.date_time_render == "SERIAL_NUMBER":
                return float(to_excel(raw))
            if self.date_time_render == "FORMATTED_STRING" or self.value_render == "FORMATTED_VALUE":
                return _formatted_date(raw, str(cell.number_format or ""))
            return (raw.date() if isinstance(raw, datetime) else raw).isoformat() \
                if not isinstance(raw, time) else raw.isoformat()
        if self.value_render == "FORMATTED_VALUE":
            return _formatted(raw, str(cell.number_format or "General"))
        if isinstance(raw, bool | str):
            return raw
        if isinstance(raw, int | float):
            return float(raw)
        return None if raw is None else str(raw)


def _formatted(value: Any, number_format: str) -> str:
    """POI's DataFormatter for the usual formats: General, 0, 0.00, #,##0.00, 0%..."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if not isinstance(value, int | float):
        return "" if value is None else str(value)
    fmt = number_format.split(";", 1)[0]
    percent = fmt.endswith("%")
    core = fmt.rstrip("%")
    number = value * 100 if percent else value
    match = re.fullmatch(r"(#,##)?0(?:\.(0+))?", core)
    if match:
        decimals = len(match.group(2) or "")
        text = f"{number:,.{decimals}f}" if match.group(1) else f"{number:.{decimals}f}"
        return text + ("%" if percent else "")
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number)) + ("%" if percent else "")
    return f"{number:.10g}" + ("%" if percent else "")


def _formatted_date(value: date | time, number_format: str) -> str:
    """An Excel date format (yyyy-mm-dd, m/d/yy, hh:mm...) applied to a date cell."""
    fmt = number_format.lower().replace("\\", "").replace('"', "")
    parts = {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "ss": "%S"}
    out = re.sub(r"yyyy|yy|dd|hh|ss", lambda m: parts[m.group(0)], fmt)
    # Excel's `mm` is minutes right after hours, months elsewhere.
    out = re.sub(r"(%H:)mm", r"\1%M", out)
    out = out.replace("mm", "%m").replace("%m:%S", "%M:%S")
    try:
        return value.strftime(out) if "%" in out else value.isoformat()
    except ValueError:
        return value.isoformat()


@register
@dataclass(kw_only=True, eq=False)
class IonToExcel(TextWriterTask):
    """Writes Ion row files as an .xlsx workbook: `from` one file (one sheet) or a map of sheet title -> file."""

    TYPES: ClassVar[tuple[str, ...]] = (SERDES + "excel.IonToExcel",)

    from_: Any = prop(kind=Kind.MAP_OR_STRING, required=True, name="from")
    charset: Any = prop("UTF-8", kind=Kind.STRING)
    sheets_title: Any = prop("Sheet", kind=Kind.STRING)
    header: Any = prop(True, kind=Kind.BOOL)
    styles: Any = prop(True, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        if isinstance(self.from_, dict):
            sheets = {str(k): ctx.render_str(v, f"from.{k}").strip() for k, v in self.from_.items()}
        else:
            sheets = {ctx.render_str(self.sheets_title, "sheetsTitle"): ctx.render_str(self.from_, "from").strip()}
        with_header = ctx.render_bool(self.header, "header")
        styled = ctx.render_bool(self.styles, "styles")
        date_style = ctx.render_str(self.date_format, "dateFormat")
        zone = self.zone(ctx, self.time_zone_id)
        book = openpyxl.Workbook(write_only=True)
        total = 0
        for title, uri in sheets.items():
            path = ctx.storage_path(uri)
            if not path.is_file():
                raise self.fail(f"property 'from': no file at '{uri}' (sheet '{title}')")
            sheet = book.create_sheet(title=title[:31])
            for number, row in enumerate(self.rows(path, uri)):
                if isinstance(row, list):
                    if with_header:
                        raise self.fail("Invalid data of type List with header: these rows are lists, "
                                        "set 'header: false' to write them")
                    self._append(sheet, row, styled, date_style, zone)
                elif isinstance(row, dict):
                    if number == 0 and with_header:
                        sheet.append([str(k) for k in row])
                    self._append(sheet, list(row.values()), styled, date_style, zone)
                else:
                    raise self.fail(f"row {number + 1} is a {type(row).__name__}, not a struct or a list")
                total += 1
        writer = OutputWriter(ctx, ctx.task_id + ".xlsx")
        try:
            book.save(writer.handle)
        except BaseException:
            writer.discard()
            raise
        return {"uri": writer.store(), "size": total}

    def _append(self, sheet: WriteOnlyWorksheet, values: list[Any], styled: bool, date_style: str,
                zone: Any) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet)
            if isinstance(value, bool):
                cell.value = value
            elif isinstance(value, int) and abs(value) >= 2**63:
                cell.value = str(value)
            elif isinstance(value, int | float):
                cell.value = value
            elif isinstance(value, Decimal):
                cell.value = float(value)
            elif isinstance(value, datetime):
                # An instant is written as its date in timeZoneId; a local date-time as is.
                cell.value = value.astimezone(zone).date() if value.tzinfo is not None else value
                if styled:
                    cell.number_format = date_style
            elif isinstance(value, date):
                cell.value = value
                if styled:
                    cell.number_format = date_style
            elif value is None:
                cell.value = None
            else:
                text = java_double(value) if isinstance(value, float) else str(value)
                if text.startswith("Formula:"):
                    cell.value = "=" + text[len("Formula:"):]
                else:
                    cell.value = text
                    cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
