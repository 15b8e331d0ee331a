"""What the workbench knows about executions, folded from engine events (or from history).

The engine publishes events on its own threads. :class:`EventInbox` is the only subscriber code
that runs there: log lines go straight into the execution's :class:`LogStore` (a buffered,
thread-safe append: no per-line message to the UI), every other event is queued. The UI drains
the queue on a timer (~30 times a second) and folds the events into :class:`ExecutionModel`
objects, which widgets render. Models are only mutated on the UI thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.engine_port import (
    ExecutionChanged,
    LogBatch,
    LogLine,
    MetricRecorded,
    OutputFileCaptured,
    PausedAtTask,
    TaskFilesChanged,
    TaskRunChanged,
    WorkingDirectoryChanged,
)
from tui.models.log_entry import LogEntry
from tui.models.log_store import LogStore

if TYPE_CHECKING:
    from tui.engine_port import Event, Execution, Flow, TaskRun

__all__ = ["CapturedFile", "EventInbox", "ExecutionModel", "Metric"]


@dataclass(frozen=True)
class Metric:
    """One metric a task run recorded (Kestra's counter/timer)."""

    task_run_id: str
    task_id: str
    name: str
    type: str
    value: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CapturedFile:
    """An output file moved into internal storage."""

    task_run_id: str
    task_id: str
    name: str
    uri: str
    size: int | None = None


class ExecutionModel:
    """One execution as the workbench shows it: state, task runs, logs, files, outputs.

    Live executions are fed by events; past ones are filled from history with the same shape, so
    every pane renders both the same way.
    """

    def __init__(self, execution: Execution, flow: Flow | None = None, *, live: bool = True,
                 inputs: dict[str, Any] | None = None) -> None:
        self.execution = execution
        self.flow = flow
        self.live = live
        self.raw_inputs: dict[str, Any] = dict(inputs or {})
        """What the user typed (before typing/conversion): what ``R`` re-runs with."""
        self.task_runs: dict[str, TaskRun] = {}
        self.logs = LogStore()
        self.metrics: list[Metric] = []
        self.captured: list[CapturedFile] = []
        self.workdirs: dict[str, str] = {}
        self.paused: PausedAtTask | None = None
        self.task_files: dict[str, TaskFilesChanged] = {}
        """What each task run changed in its shared working directory, by task run id."""
        self.version = 0
        """Bumped on every change: widgets re-render only when it moved."""
        self.tree_version = 0
        """Bumped when task runs appear or change (the tree re-renders on this one)."""
        self.logs_loaded = live
        self.announced = False
        """The end of this execution was notified (once)."""

    @property
    def id(self) -> str:
        return self.execution.id

    @property
    def flow_key(self) -> str:
        return f"{self.execution.namespace}.{self.execution.flow_id}"

    @property
    def finished(self) -> bool:
        return self.execution.state.is_terminal

    def apply(self, event: Event) -> None:
        """Fold one event into the model (UI thread)."""
        if isinstance(event, ExecutionChanged):
            self.execution = event.execution
            if event.execution.state.value != "PAUSED":
                self.paused = None
        elif isinstance(event, TaskRunChanged):
            self.task_runs[event.task_run.id] = event.task_run
            self.tree_version += 1
        elif isinstance(event, MetricRecorded):
            self.metrics.append(Metric(event.task_run_id, event.task_id, event.name, event.type,
                                       event.value, dict(event.tags)))
        elif isinstance(event, OutputFileCaptured):
            self.captured.append(CapturedFile(event.task_run_id, event.task_id, event.name,
                                              event.uri, event.size))
        elif isinstance(event, WorkingDirectoryChanged):
            if event.path is None:
                self.workdirs.pop(event.task_run_id, None)
            else:
                self.workdirs[event.task_run_id] = event.path
        elif isinstance(event, TaskFilesChanged):
            self.task_files[event.task_run_id] = event
        elif isinstance(event, PausedAtTask):
            self.paused = event
        elif isinstance(event, LogLine):  # only when not appended by the inbox (tests, history)
            self.logs.append(LogEntry.from_log_line(event))
        elif isinstance(event, LogBatch):
            self.logs.extend(_entries(event))
        self.version += 1

    def load_task_runs(self, task_runs: list[TaskRun]) -> None:
        """Fill from history: task runs, and the metrics recorded on them."""
        for run in task_runs:
            self.task_runs[run.id] = run
            for metric in run.metrics:
                try:
                    self.metrics.append(Metric(run.id, run.task_id, str(metric.get("name")),
                                               str(metric.get("type", "")),
                                               float(metric.get("value", 0.0)),
                                               dict(metric.get("tags") or {})))
                except (TypeError, ValueError):
                    continue
            if run.working_dir:
                self.workdirs.setdefault(run.id, run.working_dir)
        self.tree_version += 1
        self.version += 1

    def runs_in_order(self) -> list[TaskRun]:
        """Task runs by start time (creation order for live runs)."""
        return list(self.task_runs.values())

    def task_run(self, task_run_id: str | None) -> TaskRun | None:
        return self.task_runs.get(task_run_id) if task_run_id else None

    def metrics_of(self, task_run_id: str) -> list[Metric]:
        return [m for m in self.metrics if m.task_run_id == task_run_id]

    def files_of(self, task_run_id: str) -> list[CapturedFile]:
        """Output files of one task run: captured events, else the run's ``outputFiles``."""
        found = [c for c in self.captured if c.task_run_id == task_run_id]
        if found:
            return found
        run = self.task_runs.get(task_run_id)
        if run is None:
            return []
        output_files = run.outputs.get("outputFiles") if isinstance(run.outputs, dict) else None
        if not isinstance(output_files, dict):
            return []
        return [CapturedFile(run.id, run.task_id, str(name), str(uri))
                for name, uri in output_files.items() if isinstance(uri, str)]

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        start = self.execution.start_date
        if start is None:
            return None
        from tui.models import formatting

        end = self.execution.end_date or now or formatting.now()
        return max(0.0, (end - start).total_seconds())

    def close(self) -> None:
        self.logs.close()


BACKLOG_LIMIT = 50_000
BACKLOG_CHECK_EVERY = 1000
BACKLOG_MAX_WAIT = 5.0
"""Never hold a task for longer than this per check (a stuck consumer must not hang a run)."""


class EventInbox:
    """The engine-thread side: log lines into the model's store, other events into a queue.

    ``drain()`` (UI thread) returns the queued events; the UI syncs its log view once per tick,
    whatever the flood (a sync with nothing new costs next to nothing).
    """

    def __init__(self) -> None:
        self._queue: deque[Event] = deque()
        self._stores: dict[str, LogStore] = {}
        self._lock = threading.Lock()
        self.backlog: Any = None
        """Returns how many events a slower consumer (the history writer) still holds; while
        it is over ``BACKLOG_LIMIT`` a flooding task waits here, so memory stays bounded."""
        self._lines = 0
        self._hold_until = 0.0
        self._released = threading.Event()
        """Set by :meth:`release`: a held task sleeps on it instead of polling, so it never
        takes the interpreter back (and under CPU contention, stalls the UI) while held."""

    def register(self, model: ExecutionModel) -> None:
        with self._lock:
            self._stores[model.id] = model.logs

    def unregister(self, execution_id: str) -> None:
        with self._lock:
            self._stores.pop(execution_id, None)

    def __call__(self, event: Event) -> None:
        """The bus subscriber: runs on the engine's threads, so it only stores and queues."""
        if isinstance(event, LogLine):
            store = self._stores.get(event.execution_id)
            if store is not None:
                if self._hold_until and time.monotonic() < self._hold_until:
                    self._wait_for_ui()
                store.append(LogEntry(event.date, event.level, event.task_run_id, event.task_id,
                                      event.message))
                self._lines += 1
                if self.backlog is not None and self._lines % BACKLOG_CHECK_EVERY == 0:
                    self._wait_for_backlog()
                return
        elif type(event) is LogBatch:  # a pipe read's lines in one go, buffered like single appends
            store = self._stores.get(event.execution_id)
            if store is not None:
                if self._hold_until and time.monotonic() < self._hold_until:
                    self._wait_for_ui()
                store.extend(_entries(event), buffered=True)
                before, self._lines = self._lines, self._lines + len(event.messages)
                if self.backlog is not None and before // BACKLOG_CHECK_EVERY != self._lines // BACKLOG_CHECK_EVERY:
                    self._wait_for_backlog()
                return
        self._queue.append(event)

    def hold(self, seconds: float) -> None:
        """Ask flooding tasks to wait (at most ``seconds``) so the UI has the interpreter to
        itself: called on a key press, released once the frame is drawn. The engine thread and
        the UI share one GIL; without this a key press during a flood waits for it."""
        self._released.clear()
        self._hold_until = time.monotonic() + seconds

    def release(self) -> None:
        self._hold_until = 0.0
        self._released.set()

    @property
    def held(self) -> bool:
        """A key press is waiting for its frame (the UI defers its own folding meanwhile)."""
        until = self._hold_until
        return bool(until) and time.monotonic() < until

    def _wait_for_ui(self) -> None:
        while (remaining := self._hold_until - time.monotonic()) > 0 and self._hold_until:
            self._released.wait(remaining)

    def _wait_for_backlog(self) -> None:
        deadline = time.monotonic() + BACKLOG_MAX_WAIT
        while self.backlog() > BACKLOG_LIMIT and time.monotonic() < deadline:
            time.sleep(0.005)

    def drain(self, limit: int = 5000) -> list[Event]:
        """Queued events, oldest first (at most ``limit``: the rest waits for the next tick)."""
        events: list[Event] = []
        queue = self._queue
        while queue and len(events) < limit:
            events.append(queue.popleft())
        return events

    @property
    def pending(self) -> bool:
        return bool(self._queue)


def _entries(batch: LogBatch) -> list[LogEntry]:
    """A batch's lines as the store keeps them (they share the batch's time)."""
    date, level, run_id, task_id = batch.date, batch.level, batch.task_run_id, batch.task_id
    return [LogEntry(date, level, run_id, task_id, message) for message in batch.messages]
