"""Tables read with DuckDB: Parquet and JSON-lines previews, and a profile of any table file.

DuckDB reads CSV, TSV, Parquet and JSON lines by streaming them, so a profile of a file of
hundreds of megabytes scans it without loading it whole (memory is capped below); the
preview itself reads only its first rows. `profile_table` is slow next to a preview (it scans
every row), so the workbench computes it in a worker after the table is on screen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ColumnProfile", "TableProfile", "duckdb_rows", "profile_table", "table_kind"]

MEMORY_LIMIT = "512MB"
_KINDS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_local = threading.local()


@dataclass(frozen=True)
class ColumnProfile:
    """One column as SUMMARIZE sees it."""

    name: str
    type: str
    nulls: int
    distinct: int  # approximate (HyperLogLog) for large columns, as DuckDB counts it
    minimum: str | None
    maximum: str | None


@dataclass(frozen=True)
class TableProfile:
    rows: int
    columns: list[ColumnProfile]


def table_kind(name: str, head: bytes = b"") -> str | None:
    """csv | tsv | parquet | jsonl for a file DuckDB can read as a table, else None."""
    kind = _KINDS.get(Path(name).suffix.lower())
    if kind is None and head[:4] == b"PAR1":
        return "parquet"
    return kind


def _connection() -> Any:
    """One DuckDB connection per thread (a connection is not shared across threads)."""
    connection = getattr(_local, "connection", None)
    if connection is None:
        import duckdb

        connection = duckdb.connect(":memory:")
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        connection.execute("SET threads = 2")
        _local.connection = connection
    return connection


def _source(kind: str) -> str:
    return {"csv": "read_csv(?)", "tsv": "read_csv(?, delim = '\t')", "parquet": "read_parquet(?)",
            "jsonl": "read_json(?, format = 'newline_delimited')"}[kind]


def duckdb_rows(path: Path, kind: str, limit: int) -> tuple[list[str], list[str], list[list[str]], int | None]:
    """(columns, types, first `limit` rows as text, total rows when cheap to know: Parquet)."""
    connection = _connection()
    result = connection.execute(f"SELECT * FROM {_source(kind)} LIMIT {int(limit)}", [str(path)])
    columns = [d[0] for d in result.description]
    types = [str(d[1]) for d in result.description]
    rows = [["" if value is None else str(value) for value in row] for row in result.fetchall()]
    total = None
    if kind == "parquet":  # from the file's metadata: no scan
        total = int(connection.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)",
                                       [str(path)]).fetchone()[0] or 0)
    return columns, types, rows, total


def profile_table(path: Path, kind: str) -> TableProfile:
    """Row count and, per column, type, nulls, distinct values, min and max (one full scan)."""
    connection = _connection()
    result = connection.execute(f"SUMMARIZE SELECT * FROM {_source(kind)}", [str(path)])
    names = [d[0] for d in result.description]
    columns = []
    rows = 0
    for row in result.fetchall():
        record = dict(zip(names, row, strict=True))
        rows = int(record["count"])
        null_share = float(record["null_percentage"] or 0) / 100
        columns.append(ColumnProfile(
            name=str(record["column_name"]), type=str(record["column_type"]),
            nulls=round(rows * null_share), distinct=int(record["approx_unique"] or 0),
            minimum=None if record["min"] is None else str(record["min"]),
            maximum=None if record["max"] is None else str(record["max"])))
    if not columns:
        rows = int(connection.execute(f"SELECT count(*) FROM {_source(kind)}", [str(path)]).fetchone()[0])
    return TableProfile(rows, columns)
