"""Execution history in SQLite (WAL): executions, task runs, logs, metrics.

A writer thread drains events in batches, one transaction per batch, so the
executor never waits on disk; `flush()` makes everything so far durable. Each
execution row records the pid that ran it: at the next start, executions left
RUNNING by a process that is gone are marked KILLED.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import UsageError
from engine.core.events import (
    Event,
    EventBus,
    ExecutionChanged,
    LogBatch,
    LogLine,
    MetricRecorded,
    TaskFilesChanged,
    TaskRunChanged,
)
from engine.core.process_waits import on_process_wait
from engine.core.records import Execution, TaskRun, iso, utcnow
from engine.core.states import State
from engine.store.disk_reserve import DiskReserve
from engine.store.history_logs import EncodedBatch, LogRows, encode_batch
from engine.store.history_queue import WriteQueue
from engine.store.history_rows import (
    _histories,
    to_json_text,
    upsert_execution,
    upsert_task_runs,
)
from engine.store.secrets import Masker

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY, namespace TEXT NOT NULL, flow_id TEXT NOT NULL, state TEXT NOT NULL,
    start_date TEXT, end_date TEXT, histories TEXT NOT NULL, inputs TEXT, outputs TEXT,
    labels TEXT, trigger TEXT, flow_path TEXT, original_id TEXT, error TEXT, pid INTEGER
);
CREATE INDEX IF NOT EXISTS executions_by_start ON executions(start_date);
CREATE TABLE IF NOT EXISTS task_runs (
    id TEXT PRIMARY KEY, execution_id TEXT NOT NULL, seq INTEGER NOT NULL, task_id TEXT NOT NULL,
    task_type TEXT, parent_task_run_id TEXT, value TEXT, value_path TEXT, state TEXT NOT NULL,
    histories TEXT NOT NULL, outputs TEXT, attempts INTEGER, runner TEXT, working_dir TEXT, metrics TEXT,
    mocked INTEGER NOT NULL DEFAULT 0, paused_seconds REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS task_runs_by_execution ON task_runs(execution_id, seq);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, task_run_id TEXT, task_id TEXT,
    date TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_execution ON logs(execution_id, id);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY, execution_id TEXT NOT NULL, task_run_id TEXT, task_id TEXT,
    name TEXT, type TEXT, value REAL, tags TEXT, date TEXT
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS task_files (
    task_run_id TEXT PRIMARY KEY, execution_id TEXT NOT NULL, task_id TEXT, changes TEXT NOT NULL,
    snapshot INTEGER NOT NULL, note TEXT
);
CREATE INDEX IF NOT EXISTS task_files_by_execution ON task_files(execution_id);
CREATE TABLE IF NOT EXISTS flow_sources (hash TEXT PRIMARY KEY, text TEXT NOT NULL);
"""

# Columns added after a table first shipped: (table, column, definition), added to an older
# history.db when it opens (CREATE TABLE IF NOT EXISTS leaves an existing table as it was).
MIGRATIONS = (
    ("task_runs", "mocked", "INTEGER NOT NULL DEFAULT 0"),
    ("task_runs", "paused_seconds", "REAL NOT NULL DEFAULT 0"),
    ("task_runs", "rendered", "TEXT"),
    ("executions", "flow_hash", "TEXT"),
)

TEST_LABEL = "system.test"
"""Kestra's label on the executions a test case ran; `roost executions` leaves them out."""


def _migrate(connection: sqlite3.Connection) -> None:
    for table, column, definition in MIGRATIONS:
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            try:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            except sqlite3.OperationalError as exc:  # another process added it a moment ago
                if "duplicate column" not in str(exc):
                    raise


_RECORDED = frozenset((ExecutionChanged, TaskRunChanged, LogLine, MetricRecorded, TaskFilesChanged))
"""The events history keeps (besides log batches); a set, as it is asked for every event."""


class HistoryUnavailable(UsageError):
    """history.db cannot be opened: damaged, not a database, or not readable."""


@dataclass(frozen=True)
class LogRecord:
    id: int
    execution_id: str
    task_run_id: str | None
    task_id: str | None
    date: str
    level: str
    message: str


PAGE_SIZE = 16384


BUSY_SECONDS = 30.0


def connect(path: Path) -> sqlite3.Connection:
    """A connection that waits for other Roost processes instead of failing with 'locked'."""
    # `timeout` is SQLite's busy timeout: other connections' locks are waited out.
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None)
    if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        _switch_to_wal(connection)
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _switch_to_wal(connection: sqlite3.Connection) -> None:
    """Turn a new (or rollback-journal) history.db to WAL, waiting out the other processes.

    SQLite answers 'database is locked' at once, without its busy handler, when another
    connection holds the file while the journal mode changes: two `roost run`s started together
    on a new ROOST_HOME both get here, so the switch is retried until BUSY_SECONDS pass.
    A new database gets 16 KiB pages first (SQLite's default is 4): a million log lines then cost
    a quarter fewer CPU seconds and a quarter of the WAL writes. Only an empty file takes it
    (before WAL is on); an existing history.db keeps its page size.
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            connection.execute(f"PRAGMA page_size={PAGE_SIZE}")
            connection.execute("PRAGMA journal_mode=WAL").fetchone()  # a file system without WAL keeps its mode
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError(
                f"database is locked: another process kept it for {BUSY_SECONDS:.0f} s")
        time.sleep(0.01)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class History:
    """Reads and writes the history database; writes go through a background thread."""

    BATCH_SECONDS = 0.02
    MAX_BACKLOG = 50_000
    """Log lines (and other events) waiting for the writer before a publisher waits too."""
    # A few commits' worth of pages (each commit writes whole pages to the WAL): enough to
    # record the end of the executions running when the disk filled.
    RESERVE_BYTES = 64 * PAGE_SIZE
    #: On a full disk, a task run's lines are retried alone when they are this few, until
    #: this many have been retried in all (see `_after_failed_commit`).
    FULL_DISK_RETRY_LINES = 100
    FULL_DISK_RETRY_BUDGET = 1000
    #: Below this much free space on history.db's disk, a task's lines are written before it ends.
    LOW_SPACE_BYTES = 64 << 20
    SPACE_CHECK_SECONDS = 0.05

    def __init__(self, path: Path, masker: Masker | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._masker = masker or Masker()
        self._reserve = DiskReserve(path.with_name(path.name + ".reserve"), self.RESERVE_BYTES)
        try:
            self._read = connect(path)
            self._read.executescript(SCHEMA)
            _migrate(self._read)
        except sqlite3.DatabaseError as exc:  # damaged, not a database, unreadable, locked too long
            hint = ("; move it aside (it may be repaired with sqlite3's .recover) and Roost starts a "
                    "new one" if "malformed" in str(exc) or "not a database" in str(exc) else "")
            raise HistoryUnavailable(f"cannot use the history database {path}: {exc}{hint}") from None
        self.write_errors: list[str] = []  # what could not be recorded (a full disk), for the CLI
        self.lost_logs: dict[str | None, int] = {}  # task run id -> log lines not saved
        self.last_write_error = ""
        self._retry_budget = self.FULL_DISK_RETRY_BUDGET
        self._space_checked_at = -self.SPACE_CHECK_SECONDS
        self._low_space = False
        self._read_lock = threading.Lock()
        # Bounded in lines: in a log flood the publisher waits for the writer (no queue of 100s of MB).
        self._queue = WriteQueue(self.MAX_BACKLOG, self.BATCH_SECONDS, until_idle=True)
        self._unhook_waits = on_process_wait(self._queue.idle)  # see engine.core.process_waits
        self._seq = 0
        self._writer = threading.Thread(target=self._write_loop, name="history-writer", daemon=True)
        self._closed = False
        self.mark_orphans_killed()
        self._reserve.make()
        self._writer.start()

    # --- writing -------------------------------------------------------------------
    def attach(self, bus: EventBus) -> Callable[[], None]:
        return bus.subscribe(self._on_event, batches=True)

    def _on_event(self, event: Event) -> None:
        if type(event) is LogBatch:  # encoded here, on the publisher's thread: see history_logs
            self._queue.put(encode_batch(event), len(event.messages))
        elif type(event) in _RECORDED:
            self._queue.put(event)

    def low_on_space(self) -> bool:
        """Whether history.db's disk is nearly full (looked at most every SPACE_CHECK_SECONDS).

        A task's end waits for its lines to be written only then: on a filling disk the writer,
        a batch window behind, would otherwise find them lost after the task had succeeded.
        """
        now = time.monotonic()
        if now - self._space_checked_at >= self.SPACE_CHECK_SECONDS:
            self._space_checked_at = now
            try:
                disk = os.statvfs(self.path.parent)
                self._low_space = disk.f_bavail * disk.f_frsize < self.LOW_SPACE_BYTES
            except OSError:
                self._low_space = False
        return self._low_space

    @property
    def backlog(self) -> int:
        """Lines and events waiting for the writer, not the batch being written (a UI may slow a flood on it)."""
        return self._queue.backlog

    def flush(self, timeout: float = 30.0) -> None:
        """Block until every event received so far is committed."""
        if self._closed:
            return
        done = threading.Event()
        self._queue.put_urgent(done)
        done.wait(timeout)

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._unhook_waits()
        self._queue.put_urgent(None)
        self._writer.join(10)
        with self._read_lock:  # a reader thread (the workbench's) may be mid-query: closing
            self._read.close()  # the connection under it crashes SQLite, so wait for it

    def _write_loop(self) -> None:
        connection = connect(self.path)
        try:
            while True:
                # One transaction per BATCH_SECONDS window (or per flush): a task's state
                # changes and its log lines cost one commit (the last state of each task run
                # and execution written once), and the writer wakes once per window.
                batch = self._queue.take()
                stop = self._write_batch(connection, batch)
                self._queue.written()
                if stop:
                    return
        finally:
            connection.close()

    def _write_batch(self, connection: sqlite3.Connection, batch: list[Any]) -> bool:
        stop = False
        waiters: list[threading.Event] = []
        executions: dict[str, Execution] = {}
        task_runs: dict[str, TaskRun] = {}
        logs = LogRows()
        metrics: list[tuple[Any, ...]] = []
        files: list[tuple[Any, ...]] = []
        for item in batch:
            if item is None:
                stop = True
            elif isinstance(item, threading.Event):
                waiters.append(item)
            elif isinstance(item, ExecutionChanged):
                executions[item.execution.id] = item.execution
            elif isinstance(item, TaskRunChanged):
                task_runs[item.task_run.id] = item.task_run
            elif isinstance(item, LogLine | EncodedBatch):
                logs.add(item)
            elif isinstance(item, MetricRecorded):
                metrics.append((item.execution_id, item.task_run_id, item.task_id, item.name,
                                item.type, item.value, to_json_text(item.tags), iso(item.date)))
            elif isinstance(item, TaskFilesChanged):
                files.append((item.task_run_id, item.execution_id, item.task_id,
                              to_json_text(item.changes.to_json()), int(item.snapshot), item.note))
        if logs and self._reserve.given_back():
            # The disk filled up and the reserve went to states: log lines now would eat the
            # room the ends of executions need, so they are counted lost until space returns.
            self._drop_logs(logs, "database or disk is full (log lines dropped until there is room again)")
            logs = LogRows()
        if executions or task_runs or logs or metrics or files:
            error = self._try_commit(connection, executions, task_runs, logs, metrics, files)
            if error is not None:
                self._after_failed_commit(connection, error, executions, task_runs, logs)
        for waiter in waiters:
            waiter.set()
        return stop

    def _after_failed_commit(self, connection: sqlite3.Connection, error: sqlite3.Error,
                             executions: dict[str, Execution], task_runs: dict[str, TaskRun],
                             logs: LogRows) -> None:
        """A full disk: keep the states (small), drop the log lines, count what was lost.

        States first without logs; if even that fails, the reserved space is given back to
        SQLite for them, so an execution's end is recorded rather than left RUNNING.
        """
        again: sqlite3.Error | None = None
        if executions or task_runs:
            again = self._try_commit(connection, executions, task_runs, LogRows(), [])
            if again is not None and self._reserve.release():
                again = self._try_commit(connection, executions, task_runs, LogRows(), [])
                if again is None:
                    self._note_write_error(error, recovered=True)
            if again is not None:
                self._note_write_error(again, recovered=False)
        # Then each task run's few lines on their own: a batch window may hold the lines of a
        # task that ended before the disk filled beside the flood of the one filling it. Only
        # small groups, within a budget: the space given back is for executions' ends.
        lost = False
        for group in logs.by_task_run() if again is None else [logs]:
            lines = sum(group.lines_by_task_run().values())
            if (again is None and lines <= self.FULL_DISK_RETRY_LINES <= self._retry_budget
                    and self._try_commit(connection, {}, {}, group, []) is None):
                self._retry_budget -= lines
                continue
            lost = True
            self._count_lost(group)
        if lost:
            self._note_write_error(error, recovered=False)

    def _count_lost(self, logs: LogRows) -> None:
        for task_run_id, count in logs.lines_by_task_run().items():
            self.lost_logs[task_run_id] = self.lost_logs.get(task_run_id, 0) + count

    def _drop_logs(self, logs: LogRows, why: str) -> None:
        self._count_lost(logs)
        self._note_write_error(sqlite3.OperationalError(why), recovered=False)

    def _try_commit(self, connection: sqlite3.Connection, *batch: Any) -> sqlite3.Error | None:
        try:
            self._commit(connection, *batch)
            return None
        except sqlite3.Error as exc:
            return exc

    def _commit(self, connection: sqlite3.Connection, executions: dict[str, Execution],
                task_runs: dict[str, TaskRun], logs: LogRows,
                metrics: list[tuple[Any, ...]], files: list[tuple[Any, ...]] | None = None) -> None:
        """One transaction; rolled back whole on any error, so no batch is ever half written."""
        try:
            connection.execute("BEGIN IMMEDIATE")
            # Execution rows first: a crash between batches never leaves task runs without one.
            for execution in executions.values():
                upsert_execution(connection, execution, self._masker)
            if task_runs:
                first = self._seq + 1
                self._seq += len(task_runs)
                upsert_task_runs(connection, zip(task_runs.values(), range(first, self._seq + 1), strict=True),
                                 self._masker)
            if logs:
                logs.insert(connection)
            if metrics:
                connection.executemany(
                    "INSERT INTO metrics(execution_id, task_run_id, task_id, name, type, value, tags, date) "
                    "VALUES (?,?,?,?,?,?,?,?)", metrics)
            if files:
                connection.executemany(
                    "INSERT OR REPLACE INTO task_files(task_run_id, execution_id, task_id, changes, "
                    "snapshot, note) VALUES (?,?,?,?,?,?)", files)
            connection.execute("COMMIT")
        except sqlite3.Error:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise

    # --- a full disk -----------------------------------------------------------------
    def _note_write_error(self, exc: sqlite3.Error, *, recovered: bool) -> None:
        self.last_write_error = str(exc)
        message = (f"{self.path} is nearly full ({exc}); space reserved for it was used to record states"
                   if recovered else f"could not write to {self.path}: {exc}")
        if message not in self.write_errors:
            self.write_errors.append(message)

    # --- recovery --------------------------------------------------------------------
    def mark_orphans_killed(self) -> int:
        """Executions whose process died mid-run become KILLED, with their open task runs."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT id, pid, histories FROM executions WHERE state IN ('CREATED','RUNNING','PAUSED')"
            ).fetchall()
            killed = 0
            now = iso(utcnow())
            for execution_id, pid, histories in rows:
                if pid == os.getpid() or _pid_alive(pid):
                    continue
                try:
                    self._mark_killed(execution_id, histories, now)
                except sqlite3.Error as exc:  # a full disk or a read-only home: reading still works
                    self._note_write_error(exc, recovered=False)
                    break
                killed += 1
            return killed

    def _mark_killed(self, execution_id: str, histories: str, now: str | None) -> None:
        entries = json.loads(histories) + [["KILLED", now]]
        try:
            self._read.execute("BEGIN IMMEDIATE")
            self._read.execute(
                "UPDATE executions SET state='KILLED', end_date=?, histories=?, pid=NULL WHERE id=?",
                (now, json.dumps(entries), execution_id))
            for run_id, run_histories in self._read.execute(
                "SELECT id, histories FROM task_runs WHERE execution_id=? AND state IN "
                "('CREATED','RUNNING','PAUSED')", (execution_id,)).fetchall():
                self._read.execute(
                    "UPDATE task_runs SET state='KILLED', histories=? WHERE id=?",
                    (json.dumps(json.loads(run_histories) + [["KILLED", now]]), run_id))
            self._read.execute(
                "INSERT INTO logs(execution_id, task_run_id, task_id, date, level, message) "
                "VALUES (?,?,?,?,?,?)",
                (execution_id, None, None, now, "WARN",
                 "the roost process running this execution stopped; marked KILLED"))
            self._read.execute("COMMIT")
        except sqlite3.Error:
            try:
                self._read.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise

    # --- reading -----------------------------------------------------------------------
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            try:
                return self._read.execute(sql, params).fetchall()
            except sqlite3.ProgrammingError:
                if self._closed:  # a reader thread asked after close(): say so, no crash
                    raise HistoryUnavailable(f"the history database {self.path} is closed") from None
                raise

    def list_executions(self, limit: int = 100, flow_id: str | None = None, *,
                        include_tests: bool = False) -> list[Execution]:
        """Newest first; the executions test cases ran (label system.test) only when asked,
        as Kestra keeps them out of its Executions list."""
        conditions: list[str] = []
        params: tuple[Any, ...] = ()
        if flow_id:
            conditions.append("flow_id=?")
            params = (flow_id,)
        if not include_tests:
            conditions.append(f"COALESCE(json_extract(labels, '$.\"{TEST_LABEL}\"'), '') != 'true'")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self._query(
            f"SELECT id, namespace, flow_id, state, histories, inputs, outputs, labels, trigger, "
            f"flow_path, original_id, error FROM executions {where} "
            f"ORDER BY start_date DESC, rowid DESC LIMIT ?", (*params, limit))
        return [self._execution(row) for row in rows]

    def get_execution(self, execution_id: str) -> Execution | None:
        rows = self._query(
            "SELECT id, namespace, flow_id, state, histories, inputs, outputs, labels, trigger, "
            "flow_path, original_id, error FROM executions WHERE id=? OR id LIKE ? "
            "ORDER BY (id=?) DESC LIMIT 2", (execution_id, execution_id + "%", execution_id))
        if not rows or (len(rows) > 1 and rows[0][0] != execution_id):
            return None
        return self._execution(rows[0])

    @staticmethod
    def _execution(row: tuple[Any, ...]) -> Execution:
        (eid, namespace, flow_id, state, histories, inputs, outputs, labels, trigger,
         flow_path, original_id, error) = row
        return Execution(
            id=eid, namespace=namespace, flow_id=flow_id, state=State(state),
            histories=_histories(histories), inputs=json.loads(inputs or "{}"),
            outputs=json.loads(outputs or "{}"), labels=json.loads(labels or "{}"),
            trigger=json.loads(trigger) if trigger and trigger != "null" else None,
            flow_path=flow_path or "", original_id=original_id, error=error,
        )

    def task_runs(self, execution_id: str) -> list[TaskRun]:
        rows = self._query(
            "SELECT id, execution_id, task_id, task_type, parent_task_run_id, value, value_path, state, "
            "histories, outputs, attempts, runner, working_dir, metrics, mocked, paused_seconds, rendered "
            "FROM task_runs WHERE execution_id=? ORDER BY seq", (execution_id,))
        runs: dict[str, TaskRun] = {}
        for (rid, eid, task_id, task_type, parent, value, value_path, state, histories, outputs,
             attempts, runner, working_dir, metrics, mocked, paused_seconds, rendered) in rows:
            runs.setdefault(rid, TaskRun(
                id=rid, execution_id=eid, task_id=task_id, task_type=task_type or "",
                parent_task_run_id=parent, value=value, value_path=tuple(json.loads(value_path or "[]")),
                state=State(state), histories=_histories(histories), outputs=json.loads(outputs or "{}"),
                attempts=attempts or 0, runner=runner, working_dir=working_dir,
                metrics=tuple(json.loads(metrics or "[]")), mocked=bool(mocked),
                paused_seconds=float(paused_seconds or 0.0), rendered=json.loads(rendered or "{}"),
            ))
        return sorted(runs.values(), key=lambda r: r.start_date or utcnow())

    def logs(self, execution_id: str, task_run_id: str | None = None, after_id: int = 0,
             limit: int = 100_000) -> list[LogRecord]:
        sql = ("SELECT id, execution_id, task_run_id, task_id, date, level, message FROM logs "
               "WHERE execution_id=? AND id>?")
        params: tuple[Any, ...] = (execution_id, after_id)
        if task_run_id is not None:
            sql += " AND task_run_id=?"
            params += (task_run_id,)
        sql += " ORDER BY id LIMIT ?"
        return [LogRecord(*row) for row in self._query(sql, (*params, limit))]

    def iter_logs(self, execution_id: str, batch: int = 10_000) -> Iterator[LogRecord]:
        """Every log line of an execution, in order, read in batches: a million lines stream
        through without being held in memory at once."""
        after = 0
        while True:
            records = self.logs(execution_id, after_id=after, limit=batch)
            yield from records
            if len(records) < batch:
                return
            after = records[-1].id

    def count_logs(self, execution_id: str) -> int:
        rows = self._query("SELECT COUNT(*) FROM logs WHERE execution_id=?", (execution_id,))
        return int(rows[0][0]) if rows else 0

    def last_logs(self, execution_id: str, count: int) -> list[LogRecord]:
        """The last `count` log lines of an execution, oldest first."""
        sql = ("SELECT id, execution_id, task_run_id, task_id, date, level, message FROM logs "
               "WHERE execution_id=? ORDER BY id DESC LIMIT ?")
        return [LogRecord(*row) for row in reversed(self._query(sql, (execution_id, max(count, 0))))]

    def task_files(self, execution_id: str) -> dict[str, TaskFilesChanged]:
        """What each task changed in its working directory, by task run id."""
        from engine.workdir.manifest import ChangeSet

        rows = self._query("SELECT task_run_id, task_id, changes, snapshot, note FROM task_files "
                           "WHERE execution_id=?", (execution_id,))
        return {rid: TaskFilesChanged(execution_id, rid, task_id, ChangeSet.from_json(json.loads(changes)),
                                      bool(snapshot), note)
                for rid, task_id, changes, snapshot, note in rows}

    def get_value(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM kv WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_value(self, key: str, value: str) -> None:
        with self._read_lock:
            self._read.execute("INSERT INTO kv(key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE "
                               "SET value=excluded.value", (key, value))
