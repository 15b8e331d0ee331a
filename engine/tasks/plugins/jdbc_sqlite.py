"""Kestra's SQLite tasks (io.kestra.plugin.jdbc.sqlite.Query, Queries) on Python's sqlite3.

The url `jdbc:sqlite:` (or `:memory:`) is an in-memory database, unless `sqliteFile` or
`outputDbFile` asks for a file: then it is a file in the working directory. A relative
path is taken inside the working directory (Kestra resolves it there when the file exists),
so the tasks of a WorkingDirectory share one database file. `sqliteFile` (a kestra:// file)
is copied in under the url's file name before the SQL runs.

Kestra's SqliteCellConverter goes by the column's declared type: DATE gives a LocalDate,
DATETIME and TIMESTAMP an Instant, TIME a LocalTime, the rest what SQLite stored. sqlite3
tells declared types only through converters (PARSE_DECLTYPES), which are registered once
for the module; only connections opened with PARSE_DECLTYPES (these tasks') use them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.jdbc_common import JdbcQueries, JdbcQuery, LocalFiles, Session
from engine.tasks.plugins.jdbc_embedded import EmbeddedDatabaseTask
from engine.tasks.plugins.jdbc_values import Instant, common_cell, local_time
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

SCHEME = "jdbc:sqlite"
DEFAULT_URL = "jdbc:sqlite:"


@dataclass(frozen=True)
class _Declared:
    """A cell of a DATE/DATETIME/TIMESTAMP/TIME column, converted once the zone is known."""

    kind: str
    raw: bytes


def _declared(kind: str) -> Any:
    return lambda raw: _Declared(kind, raw)


for _name in ("DATE", "DATETIME", "TIMESTAMP", "TIME"):
    sqlite3.register_converter(_name, _declared(_name))


def _parse_datetime(text: str, zone: ZoneInfo) -> datetime:
    """Kestra's SQLITE_DATETIME_FORMATTER: ISO with or without offset, a space for the T, a date."""
    value = text.strip()
    if value.isdigit():  # stored as epoch milliseconds (the JDBC driver's default precision)
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


class SqliteSession(Session):
    product = "SQLite"
    placeholder = "?"

    def __init__(self, connection: sqlite3.Connection, zone: ZoneInfo, files: LocalFiles) -> None:
        self.connection = connection
        self.zone = zone
        self.local_files = files

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def execute(self, sql: str, values: list[Any] | None) -> Any:
        return self.connection.execute(sql, values or ())

    def cell(self, value: Any, type_code: Any) -> Any:
        if isinstance(value, _Declared):
            text = value.raw.decode("utf-8", errors="replace")
            try:
                if value.kind == "DATE":
                    return date.fromisoformat(text.strip()[:10])
                if value.kind == "TIME":
                    return local_time(time.fromisoformat(text.strip()))
                return Instant(_parse_datetime(text, self.zone))
            except ValueError:
                return text  # not a date after all: SQLite keeps whatever it was given
        return common_cell(value, self.zone)

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


def _is_memory(target: str) -> bool:
    lowered = target.strip().lower()
    return (not lowered or lowered == ":memory:" or lowered.startswith("file::memory:")
            or (lowered.startswith("file:") and "mode=memory" in lowered))


@dataclass(kw_only=True, eq=False)
class SqliteTask(EmbeddedDatabaseTask):
    """What Query and Queries share (Kestra's SqliteQueryInterface)."""

    OMIT_EMPTY_OUTPUT_FILES = True

    url: Any = prop(DEFAULT_URL, kind=Kind.STRING)
    sqlite_file: Any = prop(kind=Kind.STRING)

    def open_session(self, ctx: TaskContext[Task], zone: ZoneInfo) -> Session:
        url = self.connection_settings(ctx, SCHEME)
        target = url[len(DEFAULT_URL):] if url.startswith(DEFAULT_URL) else url[len(SCHEME):]
        directory = ctx.working_dir or ctx.create_working_directory()
        ctx.extra_variables["workingDir"] = str(directory)
        source = ctx.render_optional_str(self.sqlite_file, "sqliteFile")
        keep = ctx.render_bool(self.output_db_file, "outputDbFile")
        database: Path | None = None
        if _is_memory(target):
            if source or keep:
                database = directory / f"{new_id()}.sqlite"
        else:
            path = Path(target.removeprefix("file:").split("?", 1)[0])
            database = path if path.is_absolute() else directory / path
            if source or keep:  # Kestra keeps the file name and puts it in the working directory
                database = directory / database.name
        if source:
            assert database is not None
            self.copy_database_in(ctx, source.strip(), database, "sqliteFile")
        files = LocalFiles(self.prepare_output_files(ctx, directory), database, keep)
        try:
            if database is not None:
                database.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(database) if database is not None else ":memory:",
                                         detect_types=sqlite3.PARSE_DECLTYPES, isolation_level=None,
                                         check_same_thread=False)
        except (sqlite3.Error, OSError) as exc:
            raise TaskFailure(f"task '{ctx.task_id}': cannot open SQLite database '{url}': {exc}") from None
        return SqliteSession(connection, zone, files)


@register
@dataclass(kw_only=True, eq=False)
class Query(SqliteTask, JdbcQuery):
    """One SQL statement in SQLite; rows as outputs or an ION file, the database file in and out."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.sqlite.Query",)


@register
@dataclass(kw_only=True, eq=False)
class Queries(SqliteTask, JdbcQueries):
    """Several SQL statements in SQLite, in one transaction by default; one output each."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.sqlite.Queries",)
