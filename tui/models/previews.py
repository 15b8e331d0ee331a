"""Previews of artifacts and working-directory files, as data (the widget renders them).

Only the head of a file is read (``HEAD_BYTES``; Parquet: the first row group's first rows), so
a preview of a multi-gigabyte output is as quick as one of a small file.
"""

from __future__ import annotations

import csv
import io
import json
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = [
    "DUCKDB_HINT",
    "HEAD_BYTES",
    "BinaryPreview",
    "ImagePreview",
    "JsonPreview",
    "MessagePreview",
    "Preview",
    "TablePreview",
    "TextPreview",
    "build_preview",
    "infer_column_type",
]

HEAD_BYTES = 64 * 1024
TABLE_ROWS = 200
JSON_MAX_BYTES = 4 * 1024 * 1024
HEX_BYTES = 2048
DUCKDB_HINT = "this preview needs DuckDB, one of Roost's dependencies: pip install duckdb"


@dataclass(frozen=True)
class TablePreview:
    """CSV/TSV/Parquet/JSON lines: column names and types, and the first rows as text."""

    kind: str  # "csv" | "tsv" | "parquet" | "jsonl"
    columns: list[str]
    types: list[str]
    rows: list[list[str]]
    total_rows: int | None = None  # known for Parquet (from metadata)
    truncated: bool = False
    size: int = 0
    path: Path | None = None  # the file, for a profile (see tui.models.table_profile)


@dataclass(frozen=True)
class JsonPreview:
    value: Any
    size: int = 0


@dataclass(frozen=True)
class TextPreview:
    text: str
    lexer: str | None
    truncated: bool = False
    size: int = 0


@dataclass(frozen=True)
class ImagePreview:
    format: str
    width: int | None
    height: int | None
    size: int = 0


@dataclass(frozen=True)
class BinaryPreview:
    hex_lines: list[str] = field(default_factory=list)
    size: int = 0


@dataclass(frozen=True)
class MessagePreview:
    message: str
    severity: str = "information"


Preview = TablePreview | JsonPreview | TextPreview | ImagePreview | BinaryPreview | MessagePreview


def build_preview(path: Path, name: str | None = None) -> Preview:
    """A preview of the file at ``path``; ``name`` (default: the path's) decides the kind."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    try:
        size = path.stat().st_size
        if suffix == ".parquet":
            return _duckdb_table(path, "parquet", size)
        if suffix in (".jsonl", ".ndjson"):
            return _duckdb_table(path, "jsonl", size)
        with path.open("rb") as source:
            head = source.read(HEAD_BYTES)
    except OSError as exc:
        return MessagePreview(f"cannot read {name}: {exc.strerror or exc}", "error")
    truncated = size > len(head)
    image = _image(head, size)
    if image is not None:
        return image
    if head[:4] == b"PAR1":
        return _duckdb_table(path, "parquet", size)
    text = _decode(head, truncated)
    if text is None:
        return BinaryPreview(hex_dump(head[:HEX_BYTES]), size)
    if suffix in (".csv", ".tsv") or (suffix == ".txt" and _looks_tabular(text)):
        delimiter = "\t" if suffix == ".tsv" else None
        table = _table(text, truncated, size, delimiter)
        return replace(table, path=path) if isinstance(table, TablePreview) else table
    looks_json = suffix in (".json", ".geojson", ".ipynb") or (
        not suffix and text.lstrip()[:1] in ("{", "["))
    if looks_json and (not truncated or size <= JSON_MAX_BYTES):
        parsed = _json(path, head, truncated)
        if parsed is not None:
            return JsonPreview(parsed, size)
    return TextPreview(text, lexer_for(name, text), truncated, size)


def _decode(head: bytes, truncated: bool) -> str | None:
    if b"\x00" in head[:8192]:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the head is fine; anything else is binary.
        if truncated and exc.start >= len(head) - 4:
            return head[: exc.start].decode("utf-8")
        return None


def _json(path: Path, head: bytes, truncated: bool) -> Any:
    try:
        data = path.read_bytes() if truncated else head
        return json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None


def _looks_tabular(text: str) -> bool:
    lines = text.splitlines()[:5]
    return len(lines) >= 2 and all(line.count(",") == lines[0].count(",") > 0 for line in lines)


def _table(text: str, truncated: bool, size: int, delimiter: str | None) -> Preview:
    if truncated and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # drop the partial last row
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [row for _, row in zip(range(TABLE_ROWS + 1), reader, strict=False)]
    except csv.Error as exc:
        return TextPreview(text, None, truncated, size) if text else MessagePreview(str(exc))
    if not rows:
        return MessagePreview("empty file")
    header, body = rows[0], rows[1:]
    more = len(body) > TABLE_ROWS - 1 or truncated
    body = body[: TABLE_ROWS - 1]
    width = max(len(header), *(len(r) for r in body)) if body else len(header)
    columns = [*header, *(f"column{i + 1}" for i in range(len(header), width))]
    table = [[*row, *([""] * (width - len(row)))][:width] for row in body]
    types = [infer_column_type(row[i] for row in table) for i in range(width)]
    return TablePreview("tsv" if delimiter == "\t" else "csv", columns, types, table,
                        None if more else len(table), more, size)


def infer_column_type(values: Any) -> str:
    """``int``, ``float``, ``bool``, ``date``, ``datetime``, ``string`` or ``empty``."""
    seen = [v.strip() for v in values if v is not None and v.strip() != ""]
    if not seen:
        return "empty"
    for kind, check in (("int", _is_int), ("float", _is_float), ("bool", _is_bool),
                        ("date", _is_date), ("datetime", _is_datetime)):
        if all(check(v) for v in seen):
            return kind
    return "string"


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _is_float(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _is_date(value: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _duckdb_table(path: Path, kind: str, size: int) -> Preview:
    """Parquet and JSON lines through DuckDB: the first rows, DuckDB's types, Parquet's row count."""
    try:
        from tui.models.table_profile import duckdb_rows

        columns, types, rows, total = duckdb_rows(path, kind, TABLE_ROWS)
    except ImportError:
        return MessagePreview(DUCKDB_HINT, "warning")
    except Exception as exc:  # duckdb's own error types for damaged or foreign files
        what = "Parquet" if kind == "parquet" else "JSON lines"
        return MessagePreview(f"not a readable {what} file: {str(exc).splitlines()[0]}", "error")
    more = total > len(rows) if total is not None else len(rows) >= TABLE_ROWS
    return TablePreview(kind, columns, types, rows, total, more, size, path)


def _image(head: bytes, size: int) -> ImagePreview | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return ImagePreview("PNG", width, height, size)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return ImagePreview("GIF", width, height, size)
    if head.startswith(b"BM") and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return ImagePreview("BMP", width, abs(height), size)
    if head.startswith(b"\xff\xd8"):
        width, height = _jpeg_size(head)
        return ImagePreview("JPEG", width, height, size)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImagePreview("WEBP", None, None, size)
    return None


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    index = 2
    while index + 9 < len(head):
        if head[index] != 0xFF:
            index += 1
            continue
        marker = head[index + 1]
        length = struct.unpack(">H", head[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", head[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None, None


def hex_dump(data: bytes, width: int = 16) -> list[str]:
    """``00000000  89 50 4e 47 ...  |.PNG....|`` lines, as ``xxd``/``hexdump -C`` print them."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes}  |{text}|")
    return lines


def lexer_for(name: str, text: str) -> str | None:
    """A pygments lexer alias for the file, or None for plain text."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(name, text[:1024])
    except ClassNotFound:
        return None
    return lexer.aliases[0] if lexer.aliases else None
