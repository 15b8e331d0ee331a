"""Kestra's PostgreSQL CopyIn and CopyOut: `COPY ... FROM STDIN` / `TO STDOUT` with a storage file.

The COPY statement is built the way Kestra's AbstractCopy builds it (table and columns or a
query, then `WITH (FORMAT CSV, HEADER TRUE, DELIMITER ',', ...)`); the data streams between
the server and the file in chunks, never whole in memory. Both give `rowCount`; CopyOut also
the `uri` of what it wrote.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.jdbc_common import interrupt_on_stop
from engine.tasks.plugins.jdbc_postgres import PostgresConnection
from engine.tasks.plugins.jdbc_values import zone_of
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

FORMATS = ("TEXT", "CSV", "BINARY")
_CHUNK = 1 << 16


@dataclass(kw_only=True, eq=False)
class AbstractCopy(PostgresConnection):
    """The COPY options (Kestra's AbstractCopy)."""

    table: Any = prop(kind=Kind.STRING)
    columns: Any = prop(kind=Kind.STRING_LIST)
    format: Any = prop("TEXT", kind=Kind.STRING)
    oids: Any = prop(kind=Kind.BOOL)
    freeze: Any = prop(kind=Kind.BOOL)
    delimiter: Any = prop(kind=Kind.STRING)
    null_string: Any = prop(kind=Kind.STRING)
    header: Any = prop(kind=Kind.BOOL)
    quote: Any = prop(kind=Kind.STRING)
    escape: Any = prop(kind=Kind.STRING)
    force_quote: Any = prop(kind=Kind.STRING_LIST)
    force_not_null: Any = prop(kind=Kind.STRING_LIST)
    force_null: Any = prop(kind=Kind.STRING_LIST)
    encoding: Any = prop(kind=Kind.STRING)
    socket_timeout: Any = prop(kind=Kind.INT)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = super().validate()
        if isinstance(self.format, str) and "{{" not in self.format and self.format.upper() not in FORMATS:
            problems.append(("format", f"'format' must be one of {', '.join(FORMATS)}, not '{self.format}'"))
        return problems

    def copy_sql(self, ctx: TaskContext[Task], query: str | None, destination: str) -> str:
        """Kestra's AbstractCopy.query: COPY, the source, the direction, then the options."""
        sql = ["COPY"]
        if query is None:
            table = ctx.render_optional_str(self.table, "table")
            if not table:
                raise TaskFailure("property 'table' is required: the table to copy "
                                  + ("into" if destination == "FROM STDIN" else "from"))
            sql.append(table)
            columns = self._list(ctx, self.columns, "columns")
            if columns:
                sql.append("(" + ", ".join(columns) + ")")
        else:
            sql.append(f"({query})")
        sql.append(destination)
        options = self._options(ctx)
        if options:
            sql.append("WITH (" + ", ".join(options) + ")")
        return " ".join(sql)

    def _options(self, ctx: TaskContext[Task]) -> list[str]:
        options: list[str] = []
        fmt = ctx.render_str(self.format, "format").upper()
        if fmt not in FORMATS:
            raise TaskFailure(f"property 'format' must be one of {', '.join(FORMATS)}, not '{fmt}'")
        if fmt != "TEXT":
            options.append(f"FORMAT {fmt}")
        if self.oids is not None and ctx.render_bool(self.oids, "oids"):
            options.append("OIDS")
        if self.freeze is not None and ctx.render_bool(self.freeze, "freeze"):
            options.append("FREEZE")
        if self.delimiter is not None:
            options.append(f"DELIMITER '{self._char(ctx, self.delimiter, 'delimiter')}'")
        if self.null_string is not None:
            options.append(f"NULL '{ctx.render_str(self.null_string, 'nullString')}'")
        if self.header is not None:
            options.append("HEADER " + ("TRUE" if ctx.render_bool(self.header, "header") else "FALSE"))
        if self.quote is not None:
            options.append(f"QUOTE '{self._char(ctx, self.quote, 'quote')}'")
        if self.escape is not None:
            options.append(f"ESCAPE '{self._char(ctx, self.escape, 'escape')}'")
        force_quote = self._list(ctx, self.force_quote, "forceQuote")
        if force_quote:
            options.append("FORCE_QUOTE " + ("*" if force_quote == ["*"] else "(" + ", ".join(force_quote) + ")"))
        for values, keyword, name in ((self.force_not_null, "FORCE_NOT_NULL", "forceNotNull"),
                                      (self.force_null, "FORCE_NULL", "forceNull")):
            listed = self._list(ctx, values, name)
            if listed:
                options.append(f"{keyword} (" + ", ".join(listed) + ")")
        if self.encoding is not None:
            options.append(f"ENCODING '{ctx.render_str(self.encoding, 'encoding')}'")
        return options

    @staticmethod
    def _char(ctx: TaskContext[Task], value: Any, name: str) -> str:
        text = ctx.render_str(value, name)
        if len(text) != 1:
            raise TaskFailure(f"property '{name}' must be a single character, not '{text}'")
        return text.replace("'", "''")

    @staticmethod
    def _list(ctx: TaskContext[Task], value: Any, name: str) -> list[str]:
        return [] if value is None else [str(v) for v in ctx.render_list(value, name)]

    def _copy(self, ctx: TaskContext[Task], sql: str, transfer: Any) -> int:
        """Run COPY with `transfer(copy)` moving the data; the server's row count."""
        import psycopg

        session = self.connect(ctx, zone_of(None), socket_timeout=ctx.render_int(self.socket_timeout,
                                                                                   "socketTimeout"))
        ctx.debug(f"Starting query: {sql}")
        try:
            with interrupt_on_stop(ctx, session), session.connection.cursor() as cursor:
                with cursor.copy(sql.encode()) as copy:
                    transfer(copy)
                rows = max(cursor.rowcount, 0)
        except psycopg.Error as exc:
            raise TaskFailure(f"task '{ctx.task_id}': PostgreSQL error: {str(exc).strip()}\n"
                              f"in statement: {sql}") from None
        finally:
            session.close()
        ctx.metric("rows", "counter", float(rows))
        return rows


@register
@dataclass(kw_only=True, eq=False)
class CopyIn(AbstractCopy):
    """Loads a storage file into a table with `COPY table FROM STDIN`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.postgresql.CopyIn",)

    from_: Any = prop(kind=Kind.STRING, required=True)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        uri = ctx.render_str(self.from_, "from").strip()
        try:
            source = ctx.storage_path(uri)
        except TaskFailure as exc:
            raise TaskFailure(f"property 'from': {exc.message}") from None
        sql = self.copy_sql(ctx, None, "FROM STDIN")

        def send(copy: Any) -> None:
            with source.open("rb") as data:
                while chunk := data.read(_CHUNK):
                    copy.write(chunk)

        return {"rowCount": self._copy(ctx, sql, send)}


@register
@dataclass(kw_only=True, eq=False)
class CopyOut(AbstractCopy):
    """Writes a table or a query's rows to a storage file with `COPY ... TO STDOUT`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.jdbc.postgresql.CopyOut",)

    sql: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        query = ctx.render_optional_str(self.sql, "sql")
        sql = self.copy_sql(ctx, query, "TO STDOUT")
        with tempfile.NamedTemporaryFile("wb", dir=ctx.home.root, suffix=".copy-out", delete=False) as out:
            path = Path(out.name)

            def receive(copy: Any) -> None:
                for chunk in copy:
                    out.write(chunk)

            try:
                rows = self._copy(ctx, sql, receive)
            except BaseException:
                out.close()
                path.unlink(missing_ok=True)
                raise
        return {"uri": ctx.store_output_file("copy-out", path, move=True), "rowCount": rows}
