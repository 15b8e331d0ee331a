"""Kestra's DuckDB tasks (io.kestra.plugin.jdbc.duckdb.Query, Queries) on the duckdb package.

As in Kestra, the default url `jdbc:duckdb:` is a fresh database file in the task's working
directory (so `outputDbFile` can hand it on); `jdbc:duckdb:/abs/file.db` opens that file and
makes its folder the working directory; a relative path is taken inside the working
directory; `databaseUri` starts from a copy of a kestra:// database file. `inputFiles` are
written into the working directory, which is DuckDB's `file_search_path`, so the SQL reads
them by name (`read_csv_auto('data.csv')`); `{{ workingDir }}` and `{{ outputFiles.x }}`
are there for the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.file_transfer import render_input_files, write_input_files
from engine.tasks.plugins.jdbc_common import JdbcQueries, JdbcQuery, LocalFiles, Session
from engine.tasks.plugins.jdbc_embedded import EmbeddedDatabaseTask
from engine.tasks.plugins.jdbc_values import (
    common_cell,
    offset_date_time_utc,
    parse_json_cell,
    zoned_date_time,
)
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

if TYPE_CHECKING:
    import duckdb

SCHEME = "jdbc:duckdb"
DEFAULT_URL = "jdbc:duckdb:"
# Statement types whose result is rows; others (INSERT, CREATE, COPY...) give DuckDB's `Count`,
# which JDBC reports as an update count, not a result set.
_ROW_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "EXECUTE", "RELATION", "ANALYZE"})
_FILENAME_OPTION = re.compile(r"filename\s*=\s*(true|1)", re.IGNORECASE | re.DOTALL)


class DuckDbSession(Session):
    """A duckdb connection; its own object is the cursor (a duckdb cursor is another connection)."""

    product = "DuckDB"
    placeholder = "?"

    def __init__(self, connection: duckdb.DuckDBPyConnection, zone: ZoneInfo, files: LocalFiles) -> None:
        self.connection = connection
        self.zone = zone
        self.local_files = files

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        import duckdb  # the driver is imported when a task runs, not when Roost starts

        return (duckdb.Error,)

    def execute(self, sql: str, values: list[Any] | None) -> Any:
        return self.connection.execute(sql, values) if values is not None else self.connection.execute(sql)

    def returns_rows(self, cursor: Any, statement: str) -> bool:
        import duckdb

        if cursor.description is None:
            return False
        try:
            parsed = duckdb.extract_statements(statement)
        except duckdb.Error:
            return True
        if not parsed:
            return False
        kind = parsed[-1].type.name
        if kind in _ROW_STATEMENTS:
            return True
        return kind in ("INSERT", "UPDATE", "DELETE") and "RETURNING" in statement.upper()

    def cell(self, value: Any, type_code: Any) -> Any:
        type_name = str(type_code).upper()
        if type_name == "TIMESTAMP WITH TIME ZONE":
            return offset_date_time_utc(value)
        if type_name.startswith("TIMESTAMP"):
            return zoned_date_time(value, self.zone)
        if type_name == "JSON":
            return parse_json_cell(value)
        if type_name in ("HUGEINT", "UHUGEINT"):
            return str(value)  # a BigInteger in Kestra, written as its text
        return common_cell(value, self.zone)

    def begin(self) -> None:
        self.connection.begin()

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


@dataclass(kw_only=True, eq=False)
class DuckDbTask(EmbeddedDatabaseTask):
    """What Query and Queries share (Kestra's DuckDbQueryInterface)."""

    url: Any = prop(DEFAULT_URL, kind=Kind.STRING)
    input_files: Any = prop(kind=Kind.MAP_OR_STRING)
    database_uri: Any = prop(kind=Kind.STRING)
    community_extensions: Any = prop(kind=Kind.LIST)

    def open_session(self, ctx: TaskContext[Task], zone: ZoneInfo) -> Session:
        import duckdb  # 0.3 s: imported by the first DuckDB task, not by every `roost` command

        url = self.connection_settings(ctx, SCHEME)
        target = url[len(DEFAULT_URL):] if url.startswith(DEFAULT_URL) else url[len(SCHEME):]
        task_dir = ctx.working_dir or ctx.create_working_directory()
        database: Path | None
        if target == "":
            database = task_dir / f"{new_id()}.db"
            directory = task_dir
        elif target.startswith(":memory:") or target.startswith("md:") or target.startswith("motherduck:"):
            database, directory = None, task_dir
        else:
            database = Path(target) if Path(target).is_absolute() else task_dir / target
            database.parent.mkdir(parents=True, exist_ok=True)
            directory = database.parent
            ctx.extra_variables["dbFilePath"] = str(database)
        ctx.extra_variables["workingDir"] = str(directory)
        write_input_files(ctx, directory, render_input_files(ctx, self.input_files, "inputFiles"), "inputFiles")
        uri = ctx.render_optional_str(self.database_uri, "databaseUri")
        if uri:
            database = self.copy_database_in(ctx, uri.strip(), directory / new_id(), "databaseUri")
        files = LocalFiles(self.prepare_output_files(ctx, directory), database,
                           ctx.render_bool(self.output_db_file, "outputDbFile"))
        self._note_extensions(ctx)
        try:
            connection = duckdb.connect(str(database) if database is not None else target or ":memory:")
            escaped = str(directory).replace("'", "''")
            connection.execute(f"SET file_search_path='{escaped}'")
        except duckdb.Error as exc:
            raise TaskFailure(f"task '{ctx.task_id}': cannot open DuckDB database '{url}': {exc}") from None
        return DuckDbSession(connection, zone, files)

    def _note_extensions(self, ctx: TaskContext[Task]) -> None:
        # Kestra installs community extensions (`ion` by default) from the network, best effort,
        # and warns when that fails; Roost runs offline, so it says so once, for a list given.
        if self.community_extensions is None:
            return
        wanted = [str(e) for e in ctx.render_list(self.community_extensions, "communityExtensions")]
        if wanted:
            ctx.warn(f"DuckDB community extensions are not installed by Roost ({', '.join(wanted)}): "
                     "continuing without them")


@register
@dataclass(kw_only=True, eq=False)
class Query(DuckDbTask, JdbcQuery):
    """One SQL statement in DuckDB; rows as outputs or an ION file, files in and out."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.duckdb.Query",)

    def rendered_sql(self, ctx: TaskContext[Task]) -> str:
        sql = ctx.render_str(self.sql, "sql")
        directory = ctx.extra_variables.get("workingDir")
        if directory and _FILENAME_OPTION.search(sql):
            # Kestra shows `filename` columns relative to the working directory.
            prefix = "^" + re.escape(str(directory) + "/").replace("'", "''")
            inner = re.sub(r";\s*$", "", sql)
            sql = f"SELECT * REPLACE(regexp_replace(filename, '{prefix}', '') AS filename) FROM ({inner})"
        return sql


@register
@dataclass(kw_only=True, eq=False)
class Queries(DuckDbTask, JdbcQueries):
    """Several SQL statements in DuckDB, in one transaction by default; one output each."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.duckdb.Queries",)
