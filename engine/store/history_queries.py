"""What Kestra's execution and log tasks ask of the history: counts, log fetches, purges.

Count, log.Fetch, PurgeExecutions and PurgeLogs read and delete rows of `history.db`
the way Kestra's repositories do (its JDBC queries: namespace prefixes, date bounds on
start and end dates, level filters). The SQL lives here rather than in `history.py`, which
owns the writer thread: each call flushes that writer first (so a task sees the log lines of
the tasks before it), then uses a connection of its own, as another Roost process would.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.core.records import Execution, TaskRun, iso
from engine.store.history import History, LogRecord, connect
from engine.store.storage import SCHEME, InternalStorage, StorageError

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
"""Kestra's log levels, lowest first: a minimum level keeps itself and those after it."""


@dataclass(frozen=True)
class FlowRef:
    """One flow a Count task asks about."""

    namespace: str
    flow_id: str


@dataclass(frozen=True)
class ExecutionCount:
    """Kestra's ExecutionCount: a flow (or a whole namespace, flow_id None) and its count."""

    namespace: str
    flow_id: str | None
    count: int


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions a purge removes (Kestra's ExecutionRepository.find arguments)."""

    namespace: str | None = None
    flow_id: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    states: tuple[str, ...] = ()   # Kestra state names (SUCCESS, FAILED...)


@dataclass(frozen=True)
class PurgeCounts:
    """PurgeExecutions' outputs: how many of each thing were deleted."""

    executions: int = 0
    logs: int = 0
    metrics: int = 0
    storages: int = 0


@dataclass(frozen=True)
class LogFilter:
    """Which log lines a PurgeLogs removes."""

    namespace: str | None = None
    flow_id: str | None = None
    execution_id: str | None = None
    levels: tuple[str, ...] = ()
    start_date: datetime | None = None
    end_date: datetime | None = None


def _namespace_condition(column: str, namespace: str | None, flow_id: str | None,
                         conditions: list[str], params: list[Any]) -> None:
    """Kestra's rule: with a flowId the namespace is exact, without one it is a prefix."""
    if namespace is None:
        return
    if flow_id is not None:
        conditions.append(f"{column}=?")
        params.append(namespace)
    else:
        conditions.append(f"({column}=? OR {column} LIKE ? ESCAPE '\\')")
        params.extend([namespace, _like_prefix(namespace) + ".%"])


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


class HistoryQueries:
    """Counts, fetches and purges over one history database and its internal storage."""

    def __init__(self, history: History, storage: InternalStorage) -> None:
        self._history = history
        self._storage = storage

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        self._history.flush()
        connection = connect(self._history.path)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def _delete(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """DELETE statements in one transaction; the rows each one removed."""
        self._history.flush()
        connection = connect(self._history.path)
        try:
            connection.execute("BEGIN IMMEDIATE")
            counts = [connection.execute(sql, params).rowcount for sql, params in statements]
            connection.execute("COMMIT")
            return counts
        except sqlite3.Error:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    # --- executions ---------------------------------------------------------------
    def execution_flow(self, execution_id: str) -> tuple[str, str] | None:
        """(namespace, flowId) of an execution by its exact id, or None when unknown."""
        rows = self._rows("SELECT namespace, flow_id FROM executions WHERE id=?", (execution_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def flow_source(self, execution_id: str) -> str | None:
        """The flow's YAML as the execution ran it (None for one recorded before Roost kept it)."""
        rows = self._rows("SELECT s.text FROM executions e JOIN flow_sources s ON s.hash = e.flow_hash "
                          "WHERE e.id=?", (execution_id,))
        return str(rows[0][0]) if rows else None

    def execution_record(self, execution_id: str) -> tuple[Execution, list[TaskRun]] | None:
        """An execution by its exact id and its task runs, as history holds them now (the
        notification tasks' summary: state, duration, the task that failed)."""
        self._history.flush()
        execution = self._history.get_execution(execution_id)
        if execution is None or execution.id != execution_id:
            return None
        return execution, self._history.task_runs(execution_id)

    def count_executions(self, flows: Sequence[FlowRef], namespaces: Sequence[str],
                         states: Sequence[str], start: datetime, end: datetime) -> list[ExecutionCount]:
        """Kestra's executionCounts: one entry per asked flow (0 when none), then per namespace."""
        conditions = ["start_date>=?", "start_date<=?"]
        params: list[Any] = [iso(start), iso(end)]
        if states:
            conditions.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(states)
        alternatives: list[str] = []
        for flow in flows:
            alternatives.append("(namespace=? AND flow_id=?)")
            params.extend([flow.namespace, flow.flow_id])
        for namespace in namespaces:
            alternatives.append("namespace=?")
            params.append(namespace)
        conditions.append(f"({' OR '.join(alternatives) or '0'})")
        rows = self._rows(
            f"SELECT namespace, flow_id, COUNT(*) FROM executions{_where(conditions)} "
            "GROUP BY namespace, flow_id", tuple(params))
        found = {(ns, fid): int(count) for ns, fid, count in rows}
        counts = [ExecutionCount(f.namespace, f.flow_id, found.get((f.namespace, f.flow_id), 0)) for f in flows]
        if namespaces:
            per_namespace: dict[str, int] = {}
            for (namespace, _flow_id), count in found.items():
                if namespace in namespaces:
                    per_namespace[namespace] = per_namespace.get(namespace, 0) + count
            counts.extend(ExecutionCount(ns, None, count) for ns, count in per_namespace.items())
        return counts

    def purge_executions(self, selection: ExecutionFilter, *, executions: bool, logs: bool,
                         metrics: bool, storage: bool) -> PurgeCounts:
        """Delete what was asked of the executions the filter finds (ended ones only: a
        running execution has no end date, so an end-date bound never finds it)."""
        conditions: list[str] = []
        params: list[Any] = []
        _namespace_condition("namespace", selection.namespace, selection.flow_id, conditions, params)
        if selection.flow_id is not None:
            conditions.append("flow_id=?")
            params.append(selection.flow_id)
        if selection.start_date is not None:
            conditions.append("start_date>=?")
            params.append(iso(selection.start_date))
        if selection.end_date is not None:
            conditions.append("end_date IS NOT NULL AND end_date<=?")
            params.append(iso(selection.end_date))
        if selection.states:
            conditions.append(f"state IN ({','.join('?' * len(selection.states))})")
            params.extend(selection.states)
        found = self._rows(f"SELECT id, namespace, flow_id FROM executions{_where(conditions)}",
                                   tuple(params))
        # (which total, statement): executions count once per execution row, the rest per row.
        tagged: list[tuple[int, tuple[str, tuple[Any, ...]]]] = []
        for execution_id, _namespace, _flow_id in found:
            key = (execution_id,)
            if executions:
                tagged += [(0, ("DELETE FROM executions WHERE id=?", key)),
                           (-1, ("DELETE FROM task_runs WHERE execution_id=?", key)),
                           (-1, ("DELETE FROM task_files WHERE execution_id=?", key))]
            if logs:
                tagged.append((1, ("DELETE FROM logs WHERE execution_id=?", key)))
            if metrics:
                tagged.append((2, ("DELETE FROM metrics WHERE execution_id=?", key)))
        totals = [0, 0, 0, 0]
        counts = self._delete([statement for _, statement in tagged]) if tagged else []
        for (which, _statement), count in zip(tagged, counts, strict=True):
            if which >= 0:
                totals[which] += count
        if storage:
            totals[3] = sum(self._delete_storage(ns, fid, eid) for eid, ns, fid in found)
        return PurgeCounts(*totals)

    def _delete_storage(self, namespace: str, flow_id: str, execution_id: str) -> int:
        """The execution's files in internal storage; how many files were deleted."""
        prefix = self._storage.execution_prefix(namespace, flow_id, execution_id)
        try:
            directory = self._storage.path_of(f"{SCHEME}{prefix}")
        except StorageError:  # a malformed stored id: nothing of it can be in storage
            return 0
        if not directory.is_dir():
            return 0
        files = sum(1 for path in directory.rglob("*") if path.is_file())
        shutil.rmtree(directory, ignore_errors=True)
        return files

    # --- logs ---------------------------------------------------------------------
    def fetch_logs(self, execution_id: str, min_level: str, task_ids: Sequence[str] | None) -> list[LogRecord]:
        """An execution's log lines at `min_level` or above, in order; per task id when given."""
        levels = LEVELS[LEVELS.index(min_level):] if min_level in LEVELS else LEVELS
        base = ("SELECT id, execution_id, task_run_id, task_id, date, level, message FROM logs "
                f"WHERE execution_id=? AND level IN ({','.join('?' * len(levels))})")
        if task_ids is None:
            return [LogRecord(*row) for row in self._rows(base + " ORDER BY id",
                                                                  (execution_id, *levels))]
        records: list[LogRecord] = []
        for task_id in task_ids:
            rows = self._rows(base + " AND task_id=? ORDER BY id", (execution_id, *levels, task_id))
            records.extend(LogRecord(*row) for row in rows)
        return records

    def purge_logs(self, selection: LogFilter) -> int:
        """Delete the log lines the filter finds; how many were deleted."""
        conditions: list[str] = []
        params: list[Any] = []
        if selection.namespace is not None or selection.flow_id is not None:
            inner: list[str] = []
            _namespace_condition("namespace", selection.namespace, selection.flow_id, inner, params)
            if selection.flow_id is not None:
                inner.append("flow_id=?")
                params.append(selection.flow_id)
            conditions.append(f"execution_id IN (SELECT id FROM executions{_where(inner)})")
        if selection.execution_id is not None:
            conditions.append("execution_id=?")
            params.append(selection.execution_id)
        if selection.levels:
            conditions.append(f"level IN ({','.join('?' * len(selection.levels))})")
            params.extend(selection.levels)
        if selection.start_date is not None:
            conditions.append("date>=?")
            params.append(iso(selection.start_date))
        if selection.end_date is not None:
            conditions.append("date<=?")
            params.append(iso(selection.end_date))
        return self._delete([(f"DELETE FROM logs{_where(conditions)}", tuple(params))])[0]
