"""How history's rows are written: JSON text, state histories, executions and task runs upserted.

Kept apart from `History` (the writer thread, batching, a full disk) so each has one job; the
encoder here is the one every store writing JSON into history.db uses (kv_store too).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.core.records import Execution, StateEntry, TaskRun, iso, parse_iso, utcnow
from engine.core.states import State
from engine.store.secrets import Masker

__all__ = ["masked_json", "source_hash", "to_json_text", "upsert_execution", "upsert_task_runs"]


def source_hash(text: str | None) -> str | None:
    """The key a flow's YAML text is kept under in `flow_sources`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] if text is not None else None


def to_json_text(value: Any) -> str:
    if not value and isinstance(value, list | tuple | dict):
        return "{}" if isinstance(value, dict) else "[]"
    return _ENCODER.encode(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        from engine.core.durations import format_duration

        return format_duration(value)
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


# One encoder for every write: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def _histories_text(histories: tuple[StateEntry, ...]) -> str:
    """`[["CREATED","2026-...Z"],...]`: state names and ISO dates hold nothing JSON escapes."""
    return "[" + ",".join(f'["{h.state.value}","{iso(h.date)}"]' for h in histories) + "]"


def _histories(text: str) -> tuple[StateEntry, ...]:
    return tuple(StateEntry(State(s), parse_iso(d) or utcnow()) for s, d in json.loads(text))


def upsert_execution(connection: sqlite3.Connection, execution: Execution, masker: Masker) -> None:
    """One execution's row (and its flow's YAML text once), inserted or brought up to date."""
    digest = source_hash(execution.flow_source)
    connection.execute(
        "INSERT INTO executions(id, namespace, flow_id, state, start_date, end_date, histories, "
        "inputs, outputs, labels, trigger, flow_path, original_id, error, pid, flow_hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
        "end_date=excluded.end_date, histories=excluded.histories, outputs=excluded.outputs, "
        "labels=excluded.labels, error=excluded.error, pid=excluded.pid",
        (execution.id, execution.namespace, execution.flow_id, execution.state.value,
         iso(execution.start_date), iso(execution.end_date), _histories_text(execution.histories),
         masked_json(masker, execution.inputs), masked_json(masker, execution.outputs),
         to_json_text(execution.labels), masked_json(masker, execution.trigger), execution.flow_path,
         execution.original_id, masker.mask(execution.error) if execution.error else None,
         None if execution.state.is_terminal else os.getpid(), digest),
    )
    if execution.flow_source is not None:  # one row per distinct YAML text, kept for compare
        connection.execute("INSERT OR IGNORE INTO flow_sources(hash, text) VALUES (?,?)",
                           (digest, execution.flow_source))


_UPSERT_TASK_RUN = (
    "INSERT INTO task_runs(id, execution_id, seq, task_id, task_type, parent_task_run_id, value, "
    "value_path, state, histories, outputs, attempts, runner, working_dir, metrics, mocked, "
    "paused_seconds, rendered) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
    "histories=excluded.histories, outputs=excluded.outputs, attempts=excluded.attempts, "
    "runner=excluded.runner, working_dir=excluded.working_dir, metrics=excluded.metrics, "
    "mocked=excluded.mocked, paused_seconds=excluded.paused_seconds, rendered=excluded.rendered")


def upsert_task_runs(connection: sqlite3.Connection, task_runs: Iterable[tuple[TaskRun, int]],
                     masker: Masker) -> None:
    """Task runs' rows, inserted or brought up to date in one statement (each with its `seq`:
    the order runs were first seen)."""
    connection.executemany(_UPSERT_TASK_RUN, [
        (task_run.id, task_run.execution_id, seq, task_run.task_id, task_run.task_type,
         task_run.parent_task_run_id, task_run.value, to_json_text(list(task_run.value_path)),
         task_run.state.value, _histories_text(task_run.histories),
         masked_json(masker, task_run.outputs), task_run.attempts, task_run.runner,
         task_run.working_dir, to_json_text(list(task_run.metrics)), int(task_run.mocked),
         task_run.paused_seconds, masked_json(masker, task_run.rendered) if task_run.rendered else None)
        for task_run, seq in task_runs])


def masked_json(masker: Masker, value: Any) -> str:
    return to_json_text(masker.mask_value(value))
