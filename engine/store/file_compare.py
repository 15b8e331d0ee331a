"""Two versions of an output file, compared: size and hash, a text diff, a table diff.

`roost compare` shows how one execution's files differ from another's. Equal hashes end it
there. Text files get a unified diff (bounded, and the bound is said); CSV, TSV and Parquet
get a table diff through DuckDB, which streams both files: columns added or removed, row
counts, rows found in only one side (counted in full, a few shown).
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_LIMIT = 1024 * 1024      # larger text files are compared by hash only
DIFF_LINES = 200              # unified diff lines shown, the rest counted
SAMPLE_ROWS = 5               # rows shown for each side of a table diff
_TABLES = {".csv": "read_csv({})", ".tsv": "read_csv({}, delim = '\t')", ".parquet": "read_parquet({})"}


@dataclass(frozen=True)
class FileSide:
    size: int
    sha256: str


@dataclass(frozen=True)
class TableDiff:
    """Rows and columns that differ between two tables (same-named columns compared)."""

    columns_added: list[str]
    columns_removed: list[str]
    rows_left: int
    rows_right: int
    only_left: int
    only_right: int
    sample_left: list[list[str]] = field(default_factory=list)
    sample_right: list[list[str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"columnsAdded": self.columns_added, "columnsRemoved": self.columns_removed,
                "rowsLeft": self.rows_left, "rowsRight": self.rows_right,
                "onlyLeft": self.only_left, "onlyRight": self.only_right,
                "sampleLeft": self.sample_left, "sampleRight": self.sample_right}


@dataclass(frozen=True)
class FileDiff:
    """What differs between two versions of one file; `identical` when the bytes are the same."""

    left: FileSide | None
    right: FileSide | None
    text_diff: list[str] = field(default_factory=list)
    text_diff_omitted: int = 0
    table_diff: TableDiff | None = None
    note: str | None = None

    @property
    def identical(self) -> bool:
        return self.left is not None and self.right is not None and self.left.sha256 == self.right.sha256

    def to_json(self) -> dict[str, Any]:
        def side(s: FileSide | None) -> dict[str, Any] | None:
            return {"size": s.size, "sha256": s.sha256} if s else None

        data: dict[str, Any] = {"left": side(self.left), "right": side(self.right),
                                "identical": self.identical}
        if self.text_diff:
            data["textDiff"] = self.text_diff
            data["textDiffOmittedLines"] = self.text_diff_omitted
        if self.table_diff is not None:
            data["tableDiff"] = self.table_diff.to_json()
        if self.note:
            data["note"] = self.note
        return data


def file_side(path: Path | None) -> FileSide | None:
    if path is None or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return FileSide(path.stat().st_size, digest.hexdigest())


def compare_files(name: str, left: Path | None, right: Path | None) -> FileDiff:
    """Compare two files named `name` (the name's suffix picks the table reader)."""
    left_side, right_side = file_side(left), file_side(right)
    if left_side is None or right_side is None or left_side.sha256 == right_side.sha256:
        return FileDiff(left_side, right_side)
    assert left is not None and right is not None
    reader = _TABLES.get(Path(name).suffix.lower())
    if reader is not None:
        try:
            return FileDiff(left_side, right_side, table_diff=_table_diff(reader, left, right))
        except Exception as exc:  # duckdb's own errors: not a table after all
            note = f"not compared as tables: {str(exc).splitlines()[0]}"
            return _text_or_hash(left_side, right_side, left, right, note)
    return _text_or_hash(left_side, right_side, left, right, None)


def _text_or_hash(left_side: FileSide, right_side: FileSide, left: Path, right: Path,
                  note: str | None) -> FileDiff:
    if max(left_side.size, right_side.size) > TEXT_LIMIT:
        return FileDiff(left_side, right_side, note=note or f"over {TEXT_LIMIT // 1024} KiB: compared by hash")
    try:
        a = left.read_text(encoding="utf-8").splitlines()
        b = right.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return FileDiff(left_side, right_side, note=note or "binary: compared by hash")
    lines = list(difflib.unified_diff(a, b, "left", "right", lineterm="", n=2))
    return FileDiff(left_side, right_side, lines[:DIFF_LINES], max(0, len(lines) - DIFF_LINES), note=note)


def _count(connection: Any, source: str) -> int:
    row = connection.execute(f"SELECT count(*) FROM {source}").fetchone()
    return int(row[0]) if row else 0


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _table_diff(reader: str, left: Path, right: Path) -> TableDiff:
    import duckdb

    connection = duckdb.connect(":memory:")
    connection.execute("SET memory_limit = '512MB'")
    # a view takes no prepared parameter: the paths go in as SQL string literals
    connection.execute(f"CREATE VIEW l AS SELECT * FROM {reader.format(_literal(left))}")
    connection.execute(f"CREATE VIEW r AS SELECT * FROM {reader.format(_literal(right))}")
    left_columns = [row[0] for row in connection.execute("DESCRIBE l").fetchall()]
    right_columns = [row[0] for row in connection.execute("DESCRIBE r").fetchall()]
    shared = [c for c in left_columns if c in right_columns]
    rows_left, rows_right = _count(connection, "l"), _count(connection, "r")
    if shared:
        listed = ", ".join(f'"{c}"' for c in shared)

        def only(first: str, second: str) -> tuple[int, list[list[str]]]:
            query = f"SELECT {listed} FROM {first} EXCEPT ALL SELECT {listed} FROM {second}"
            count = _count(connection, f"({query})")
            sample = connection.execute(f"{query} LIMIT {SAMPLE_ROWS}").fetchall()
            return count, [["" if v is None else str(v) for v in row] for row in sample]

        only_left, sample_left = only("l", "r")
        only_right, sample_right = only("r", "l")
    else:
        only_left, only_right, sample_left, sample_right = rows_left, rows_right, [], []
    connection.close()
    return TableDiff([c for c in right_columns if c not in left_columns],
                     [c for c in left_columns if c not in right_columns],
                     rows_left, rows_right, only_left, only_right, sample_left, sample_right)
