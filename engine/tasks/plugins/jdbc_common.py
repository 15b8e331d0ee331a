"""What Kestra's JDBC Query and Queries tasks share, whatever the database.

Kestra's AbstractJdbcBaseQuery / AbstractJdbcQuery / AbstractJdbcQueries: the connection
properties, `sql` rendered with the task's extra variables, `:name` parameters bound as the
driver's placeholders, and `fetchType` (or the legacy `fetch`, `fetchOne`, `store`) deciding
what a result set becomes: `row` (FETCH_ONE), `rows` (FETCH), `uri` (STORE: an ION file in
storage, written while the rows stream in) or nothing (NONE); `size` counts them. Query runs
one statement (with `afterSQL` in the same transaction); Queries runs several, in one
transaction unless `transaction: false`, rolled back when one fails.

A database is reached through a `Session` (one per task run, opened by the database's
module), so this module never imports a driver.
"""

from __future__ import annotations

import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.jdbc_sql import bind_named, split_statements
from engine.tasks.plugins.jdbc_values import ion_row, output_value, zone_of
from engine.tasks.properties import Kind, prop


class FetchType(Enum):
    FETCH = "FETCH"
    FETCH_ONE = "FETCH_ONE"
    STORE = "STORE"
    NONE = "NONE"


@dataclass
class LocalFiles:
    """What an embedded database's task run leaves to capture once the connection is closed."""

    output_files: dict[str, Path] = field(default_factory=dict)
    database_file: Path | None = None
    keep_database: bool = False


class Session(ABC):
    """One open connection and what its driver does its own way.

    Per task run, never on the task: one task object serves every run of it (ForEach...)."""

    product: ClassVar[str] = "database"
    placeholder: ClassVar[str] = "?"
    local_files: LocalFiles | None = None

    @property
    @abstractmethod
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions the driver raises for a failed statement, turned into TaskFailure."""

    @abstractmethod
    def execute(self, sql: str, values: list[Any] | None) -> Any:
        """Run one statement; returns a DB-API cursor (description, fetchmany)."""

    def returns_rows(self, cursor: Any, statement: str) -> bool:
        return cursor.description is not None

    @abstractmethod
    def cell(self, value: Any, type_code: Any) -> Any:
        """A driver value as Kestra's cell converter for this database makes it."""

    def begin(self) -> None:
        self.execute("BEGIN", None)

    def commit(self) -> None:
        self.execute("COMMIT", None)

    def rollback(self) -> None:
        self.execute("ROLLBACK", None)

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running statement (called from another thread on cancel or timeout)."""

    @abstractmethod
    def close(self) -> None: ...


@dataclass
class StatementResult:
    """What one statement gave back; `fetched` is False when it returned no result set."""

    fetched: bool = False
    row: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    uri: str | None = None
    size: int | None = None

    def outputs(self, *, always_row: bool) -> dict[str, Any]:
        """Kestra's Output: `row` is always there (@JsonInclude), the others only when set."""
        found: dict[str, Any] = {"row": self.row} if always_row or self.row is not None else {}
        for key in ("rows", "uri", "size"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found


@dataclass(kw_only=True, eq=False)
class JdbcTask(Task):
    """The properties of every JDBC query task (Kestra's AbstractJdbcBaseQuery)."""

    url: Any = prop(kind=Kind.STRING, required=True)
    username: Any = prop(kind=Kind.STRING)
    password: Any = prop(kind=Kind.STRING)
    time_zone_id: Any = prop(kind=Kind.STRING)
    sql: Any = prop(kind=Kind.STRING, required=True)
    parameters: Any = prop(kind=Kind.MAP)
    fetch_type: Any = prop("NONE", kind=Kind.STRING)
    fetch_size: Any = prop(10000, kind=Kind.INT)
    store: Any = prop(False, kind=Kind.BOOL, dynamic=False,
                      deprecated="is deprecated in Kestra; use fetchType: STORE")
    fetch_one: Any = prop(False, kind=Kind.BOOL, dynamic=False,
                          deprecated="is deprecated in Kestra; use fetchType: FETCH_ONE")
    fetch: Any = prop(False, kind=Kind.BOOL, dynamic=False,
                      deprecated="is deprecated in Kestra; use fetchType: FETCH")
    # Pooling saves a server round trip in Kestra's worker; each Roost task run connects anew.
    connection_pooling: Any = prop(True, kind=Kind.BOOL)
    connection_pool_size: Any = prop(10, kind=Kind.INT)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        names = [t.value for t in FetchType]
        if isinstance(self.fetch_type, str) and "{{" not in self.fetch_type and self.fetch_type not in names:
            problems.append(("fetchType", f"'fetchType' must be one of {', '.join(names)}, "
                                          f"not '{self.fetch_type}'"))
        return problems

    # --- what each database provides --------------------------------------------------------
    @abstractmethod
    def open_session(self, ctx: TaskContext[Task], zone: ZoneInfo) -> Session:
        """Connect; may first prepare files and set extra variables (`workingDir`...)."""

    def finish(self, ctx: TaskContext[Task], session: Session) -> dict[str, Any]:
        """Outputs beyond the rows, gathered once the connection is closed (output files...)."""
        return {}

    def rendered_sql(self, ctx: TaskContext[Task]) -> str:
        return ctx.render_str(self.sql, "sql")

    # --- shared steps ---------------------------------------------------------------------
    def resolved_fetch_type(self, ctx: TaskContext[Task]) -> FetchType:
        """The legacy booleans win, in Kestra's order: fetch, fetchOne, store; then fetchType."""
        if self.fetch is True:
            return FetchType.FETCH
        if self.fetch_one is True:
            return FetchType.FETCH_ONE
        if self.store is True:
            return FetchType.STORE
        text = ctx.render_str(self.fetch_type, "fetchType").strip().upper()
        try:
            return FetchType(text)
        except ValueError:
            raise TaskFailure(f"property 'fetchType' must be one of FETCH, FETCH_ONE, STORE, NONE, "
                              f"not '{text}'") from None

    def connection_settings(self, ctx: TaskContext[Task], scheme: str) -> str:
        """The rendered `url`, checked to start with the driver's scheme (Kestra's validateUrl)."""
        url = ctx.render_optional_str(self.url, "url") or ""
        if not url.strip():
            raise TaskFailure("Rendered value of `url` is blank.")
        if not url.startswith(scheme):
            raise TaskFailure(f"property 'url': URL scheme is invalid. URL should start with `{scheme}`, "
                              f"got '{url}'")
        return url

    def _parameters(self, ctx: TaskContext[Task]) -> dict[str, Any] | None:
        if self.parameters is None:
            return None
        return {str(k): v for k, v in ctx.render_map(self.parameters, "parameters").items()}

    def _prepare(self, ctx: TaskContext[Task]) -> tuple[FetchType, int, ZoneInfo, Session]:
        fetch_type = self.resolved_fetch_type(ctx)
        fetch_size = ctx.render_int(self.fetch_size, "fetchSize") or 10000
        zone = zone_of(ctx.render_optional_str(self.time_zone_id, "timeZoneId"))
        return fetch_type, max(fetch_size, 1), zone, self.open_session(ctx, zone)

    def _metric(self, ctx: TaskContext[Task], fetch_type: FetchType, size: int) -> None:
        tags = {"fetch": str(fetch_type in (FetchType.FETCH, FetchType.FETCH_ONE)).lower(),
                "store": str(fetch_type is FetchType.STORE).lower()}
        ctx.metric("fetch.size", "counter", float(size), tags)


def run_statement(ctx: TaskContext[Task], session: Session, statement: str, parameters: dict[str, Any] | None,
                  fetch_type: FetchType, fetch_size: int) -> StatementResult:
    """Execute one statement and turn its result set, if any, into what `fetchType` asks for."""
    sql, values = (statement, None) if parameters is None else bind_named(statement, parameters,
                                                                          session.placeholder)
    ctx.debug(f"Starting query: {statement}")
    try:
        cursor = session.execute(sql, values)
        if not session.returns_rows(cursor, sql):
            return StatementResult()
        return _fetch(ctx, session, cursor, fetch_type, fetch_size)
    except session.driver_errors as exc:
        if ctx.cancelled:
            raise TaskFailure(f"task '{ctx.task_id}': the statement was interrupted: {statement}") from None
        message = str(exc).strip() or type(exc).__name__
        raise TaskFailure(f"task '{ctx.task_id}': {session.product} error: {message}\n"
                          f"in statement: {statement}") from None


def _rows(session: Session, cursor: Any, fetch_size: int) -> Iterator[dict[str, Any]]:
    columns = [(str(d[0]), d[1]) for d in cursor.description]
    while True:
        batch = cursor.fetchmany(fetch_size)
        if not batch:
            return
        for record in batch:
            yield {name: (None if value is None else session.cell(value, type_code))
                   for (name, type_code), value in zip(columns, record, strict=False)}


def _fetch(ctx: TaskContext[Task], session: Session, cursor: Any, fetch_type: FetchType,
           fetch_size: int) -> StatementResult:
    if fetch_type is FetchType.FETCH_ONE:
        first = next(_rows(session, cursor, 1), None)
        row = None if first is None else output_value(first)
        return StatementResult(True, row=row, size=0 if first is None else 1)
    if fetch_type is FetchType.FETCH:
        rows = [output_value(r) for r in _rows(session, cursor, fetch_size)]
        return StatementResult(True, rows=rows, size=len(rows))
    if fetch_type is FetchType.STORE:
        uri, size = _store(ctx, _rows(session, cursor, fetch_size))
        return StatementResult(True, uri=uri, size=size)
    return StatementResult(True)


def _store(ctx: TaskContext[Task], rows: Iterator[dict[str, Any]]) -> tuple[str, int]:
    """Rows streamed into an ION file (one struct a line), then put in storage."""
    size = 0
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".ion", dir=ctx.home.root,
                                     delete=False) as out:
        path = Path(out.name)
        try:
            for row in rows:
                out.write(ion_row(row))
                out.write("\n")
                size += 1
        except BaseException:
            out.close()
            path.unlink(missing_ok=True)
            raise
    return ctx.store_output_file(f"{new_id()}.ion", path, move=True), size


@contextmanager
def interrupt_on_stop(ctx: TaskContext[Task], session: Session) -> Iterator[None]:
    """While the body runs, a cancel or timeout of the task interrupts the running statement."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if ctx.stop.is_set():
                session.interrupt()
                return

    watcher = threading.Thread(target=watch, name=f"jdbc-stop-{ctx.task_id}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


@dataclass(kw_only=True, eq=False)
class JdbcQuery(JdbcTask):
    """One statement (Kestra's AbstractJdbcQuery); `afterSQL` runs after it in one transaction."""

    after_sql: Any = prop(kind=Kind.STRING, name="afterSQL")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        fetch_type, fetch_size, _zone, session = self._prepare(ctx)
        try:
            sql = self.rendered_sql(ctx)
            statements = split_statements(sql)
            if len(statements) > 1:
                raise TaskFailure("Query task support only a single SQL statement. "
                                  "Use the Queries task to run multiple statements.")
            parameters = self._parameters(ctx)
            after = ctx.render_optional_str(self.after_sql, "afterSQL")
            after_statements = split_statements(after) if after else []
            if len(after_statements) > 1:
                raise TaskFailure("Query task afterSQL supports only a single SQL statement. "
                                  "Use the Queries task to run multiple statements.")
            with interrupt_on_stop(ctx, session):
                result = self._execute(ctx, session, statements[0] if statements else sql, after_statements,
                                       parameters, fetch_type, fetch_size)
        finally:
            session.close()
        self._metric(ctx, fetch_type, result.size or 0)
        return {**result.outputs(always_row=True), **self.finish(ctx, session)}

    def _execute(self, ctx: TaskContext[Task], session: Session, statement: str, after: list[str],
                 parameters: dict[str, Any] | None, fetch_type: FetchType, fetch_size: int) -> StatementResult:
        if not after:
            return run_statement(ctx, session, statement, parameters, fetch_type, fetch_size)
        session.begin()
        try:
            result = run_statement(ctx, session, statement, parameters, fetch_type, fetch_size)
            ctx.debug(f"Executing afterSQL: {after[0]}")
            run_statement(ctx, session, after[0], parameters, FetchType.NONE, fetch_size)
            session.commit()
        except BaseException:
            _rollback(ctx, session)
            raise
        return result


@dataclass(kw_only=True, eq=False)
class JdbcQueries(JdbcTask):
    """Several statements (Kestra's AbstractJdbcQueries): one output per statement with rows."""

    transaction: Any = prop(True, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        fetch_type, fetch_size, _zone, session = self._prepare(ctx)
        total = 0
        outputs: list[dict[str, Any]] = []
        try:
            in_transaction = ctx.render_bool(self.transaction, "transaction")
            statements = split_statements(self.rendered_sql(ctx))
            parameters = self._parameters(ctx)
            with interrupt_on_stop(ctx, session):
                if in_transaction:
                    session.begin()
                try:
                    for statement in statements:
                        result = run_statement(ctx, session, statement, parameters, fetch_type, fetch_size)
                        if not result.fetched:
                            continue
                        if fetch_type is FetchType.NONE:
                            ctx.info("fetchType is set to NONE, no output will be returned")
                        total += result.size or 0
                        outputs.append(result.outputs(always_row=True))
                        if ctx.cancelled:
                            break
                    if in_transaction:
                        session.commit()
                except BaseException:
                    if in_transaction:
                        _rollback(ctx, session)
                    raise
        finally:
            session.close()
        self._metric(ctx, fetch_type, total)
        return {"outputs": outputs, **self.finish(ctx, session)}


def _rollback(ctx: TaskContext[Task], session: Session) -> None:
    """Undo the transaction after a failure; a failed rollback is logged, the first error kept."""
    try:
        session.rollback()
        ctx.warn("the transaction was rolled back")
    except Exception as exc:  # the connection may be gone: the original error is what matters
        ctx.warn(f"rollback failed: {exc}")
