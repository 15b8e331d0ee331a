"""How the CLI prints: log lines on stderr while a flow runs, tables of history."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, TextIO

from engine.core.events import Event, LogBatch, LogLine
from engine.core.records import Execution, TaskRun
from engine.store.history_rows import _json_default

LEVELS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "WARNING": 3, "ERROR": 4}
_COLOURS = {"TRACE": "2", "DEBUG": "2", "INFO": "", "WARN": "33", "WARNING": "33", "ERROR": "31"}
STATE_SYMBOLS = {
    "CREATED": "·", "RUNNING": "▶", "PAUSED": "⏸", "SUCCESS": "✔", "WARNING": "▲",
    "FAILED": "✘", "KILLED": "■", "SKIPPED": "↷",
}


class LogPrinter:
    """Prints log events as `time task LEVEL message`; colours only on a terminal.

    Subscribe it with ``batches=True``: a batch's lines share one prefix and go out in one
    write, and the clock is formatted once per second (strftime per line cost 30 µs).
    """

    def __init__(self, stream: TextIO = sys.stderr, min_level: str = "INFO") -> None:
        self.stream = stream
        self.min_level = LEVELS.get(min_level.upper(), 2)
        self.colour = stream.isatty()
        self._second = -1
        self._clock = ""

    def __call__(self, event: Event) -> None:
        if not isinstance(event, LogLine | LogBatch) or LEVELS.get(event.level, 2) < self.min_level:
            return
        level = event.level.ljust(5)
        if self.colour and _COLOURS.get(event.level):
            level = f"\x1b[{_COLOURS[event.level]}m{level}\x1b[0m"
        prefix = f"{self._stamp(event.date)} {event.task_id or '-'} {level} "
        if isinstance(event, LogLine):
            self.stream.write(f"{prefix}{event.message}\n")
        else:
            self.stream.write(prefix + ("\n" + prefix).join(event.messages) + "\n")
        self.stream.flush()

    def _stamp(self, date: datetime) -> str:
        """`HH:MM:SS.mmm` in local time; the `HH:MM:SS` part formatted once per second."""
        second = int(date.timestamp())
        if second != self._second:
            self._clock = date.astimezone().strftime("%H:%M:%S")
            self._second = second
        return f"{self._clock}.{date.microsecond // 1000:03d}"


def execution_json(execution: Execution, task_runs: list[TaskRun]) -> str:
    return json.dumps(execution.to_json(task_runs), default=_json_default, indent=2)


def duration_text(execution: Execution | TaskRun) -> str:
    """Start to end; for a task run its running time, and apart the time it waited at a
    breakpoint (``55ms (paused 11.30s)``)."""
    start, end = execution.start_date, execution.end_date
    if start is None:
        return "-"
    seconds = ((end or datetime.now(start.tzinfo)) - start).total_seconds()
    paused = execution.paused_seconds if isinstance(execution, TaskRun) else 0.0
    if not paused:
        return _seconds_text(seconds)
    return f"{_seconds_text(max(0.0, seconds - paused))} (paused {_seconds_text(paused)})"


def _seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.2f}s"


def executions_table(executions: list[Execution]) -> str:
    rows = [("ID", "FLOW", "STATE", "STARTED", "DURATION")]
    for execution in executions:
        start = execution.start_date.astimezone().strftime("%Y-%m-%d %H:%M:%S") if execution.start_date else "-"
        rows.append((execution.id, f"{execution.namespace}.{execution.flow_id}",
                     f"{STATE_SYMBOLS.get(execution.state.value, '')} {execution.state.value}",
                     start, duration_text(execution)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def task_run_tree(task_runs: list[TaskRun]) -> str:
    children: dict[str | None, list[TaskRun]] = {}
    for run in task_runs:
        children.setdefault(run.parent_task_run_id, []).append(run)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for run in children.get(parent, []):
            value = f" [{run.value}]" if run.value is not None else ""
            outputs = f"  {json.dumps(run.outputs, default=_json_default)}" if run.outputs else ""
            mocked = " (mocked: a fixture stood in, it did not run)" if run.mocked else ""
            runner = f" on {run.runner}" if run.runner else ""
            lines.append(f"{'  ' * depth}{STATE_SYMBOLS.get(run.state.value, '')} {run.task_id}{value} "
                         f"{run.state.value} {duration_text(run)}{runner}{mocked}{outputs}")
            walk(run.id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def summary(execution: Execution, extra: dict[str, Any] | None = None) -> str:
    text = (f"execution {execution.id} {STATE_SYMBOLS.get(execution.state.value, '')} "
            f"{execution.state.value} in {duration_text(execution)}")
    if execution.outputs:
        text += f"\noutputs: {json.dumps(execution.outputs, default=_json_default)}"
    return text
