"""Log lines into history's `logs` table: single lines as rows, a batch in one statement.

Why one statement per batch: binding a million rows one by one from Python costs seconds;
a batch's lines share execution, task run, level and date, so they go in as one JSON array
that SQLite's `json_each` unrolls in C, in array order (ids follow the order the lines were
written). An SQLite without JSON falls back to `executemany`. The array is encoded by the
publishing thread (:func:`encode_batch`): the writer is what a flood waits for, so it only
hands SQLite the text.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from engine.core.events import LogBatch, LogLine
from engine.core.records import iso

__all__ = ["EncodedBatch", "LogRows", "encode_batch", "has_json_each"]

_INSERT = ("INSERT INTO logs(execution_id, task_run_id, task_id, date, level, message) "
           "VALUES (?,?,?,?,?,?)")
_INSERT_ARRAY = ("INSERT INTO logs(execution_id, task_run_id, task_id, date, level, message) "
                 "SELECT ?, ?, ?, ?, ?, value FROM json_each(?)")
# No ORDER BY: json_each yields the array in order and an INSERT ... SELECT of one scan keeps
# it (tests/test_log_batches.py checks it); ORDER BY key added a sort per batch.


@dataclass(frozen=True)
class EncodedBatch:
    """A batch of lines and its messages as a JSON array (None: this SQLite has no JSON)."""

    batch: LogBatch
    array: str | None


def encode_batch(batch: LogBatch) -> EncodedBatch:
    return EncodedBatch(batch, json.dumps(batch.messages) if has_json_each() else None)


class LogRows:
    """The log lines of one write batch, in the order they were published."""

    def __init__(self) -> None:
        self._items: list[tuple[Any, ...] | EncodedBatch] = []

    def add(self, event: LogLine | EncodedBatch) -> None:
        if isinstance(event, EncodedBatch):
            self._items.append(event)
        else:
            self._items.append((event.execution_id, event.task_run_id, event.task_id, iso(event.date),
                                event.level, event.message))

    def __bool__(self) -> bool:
        return bool(self._items)

    def lines_by_task_run(self) -> dict[str | None, int]:
        """How many lines each task run has here (counted as lost when a full disk drops them)."""
        counts: dict[str | None, int] = {}
        for item in self._items:
            if isinstance(item, EncodedBatch):
                run_id = item.batch.task_run_id
                counts[run_id] = counts.get(run_id, 0) + len(item.batch.messages)
            else:
                counts[item[1]] = counts.get(item[1], 0) + 1
        return counts

    def by_task_run(self) -> list[LogRows]:
        """The same lines split per task run, in the order each run first appears (a full disk
        retries them one run at a time, so one flooding task does not take the others' lines)."""
        groups: dict[str | None, LogRows] = {}
        for item in self._items:
            run_id = item.batch.task_run_id if isinstance(item, EncodedBatch) else item[1]
            groups.setdefault(run_id, LogRows())._items.append(item)
        return list(groups.values())

    def insert(self, connection: sqlite3.Connection) -> None:
        """Write every line, inside the caller's transaction."""
        rows: list[tuple[Any, ...]] = []
        for item in self._items:
            if not isinstance(item, EncodedBatch):
                rows.append(item)
                continue
            batch = item.batch
            head = (batch.execution_id, batch.task_run_id, batch.task_id, iso(batch.date), batch.level)
            if item.array is None:
                rows.extend((*head, message) for message in batch.messages)
                continue
            if rows:
                connection.executemany(_INSERT, rows)
                rows = []
            connection.execute(_INSERT_ARRAY, (*head, item.array))
        if rows:
            connection.executemany(_INSERT, rows)


@functools.cache
def has_json_each() -> bool:
    """Whether this process's SQLite has `json_each` (built in since 3.38; an option before)."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT count(*) FROM json_each('[1]')").fetchone()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
