"""The typed events the executor publishes; the TUI, the CLI, history and tests consume them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from engine.core.debug import PauseInspection
from engine.core.records import Execution, TaskRun


@dataclass(frozen=True)
class ExecutionChanged:
    """The execution was created or changed state (started, paused, finished...)."""

    execution: Execution


@dataclass(frozen=True)
class TaskRunChanged:
    """A task run was created, changed state, or got its outputs."""

    task_run: TaskRun


@dataclass(frozen=True)
class LogLine:
    """One log line, already masked; task_run_id is None for execution-level lines."""

    execution_id: str
    task_run_id: str | None
    task_id: str | None
    level: str
    message: str
    date: datetime


@dataclass(frozen=True)
class LogBatch:
    """Consecutive lines of one task run at one level, read in one go (already masked).

    Why a batch: a task printing a million lines would cost a million events (queue puts,
    SQLite rows bound one by one, console writes). A runner publishes one batch per pipe
    read instead; the lines share the read's timestamp. Subscribers that take batches say so
    (``EventBus.subscribe(..., batches=True)``); every other subscriber gets each line as a
    :class:`LogLine`, so none misses a line.
    """

    execution_id: str
    task_run_id: str | None
    task_id: str | None
    level: str
    messages: tuple[str, ...]
    date: datetime

    def lines(self) -> Iterator[LogLine]:
        """The batch as single-line events, in order."""
        for message in self.messages:
            yield LogLine(self.execution_id, self.task_run_id, self.task_id, self.level, message, self.date)


@dataclass(frozen=True)
class MetricRecorded:
    execution_id: str
    task_run_id: str
    task_id: str
    name: str
    type: str
    value: float
    tags: dict[str, str]
    date: datetime


@dataclass(frozen=True)
class OutputFileCaptured:
    """A file moved from a working directory into internal storage."""

    execution_id: str
    task_run_id: str
    task_id: str
    name: str
    uri: str
    size: int


@dataclass(frozen=True)
class WorkingDirectoryChanged:
    """A shared working directory was created (path) or removed (path None)."""

    execution_id: str
    task_run_id: str
    task_id: str
    path: str | None


@dataclass(frozen=True)
class TaskFilesChanged:
    """What a task did to its shared working directory (files added, modified, deleted).

    ``changes`` is an :class:`engine.workdir.manifest.ChangeSet`; ``snapshot`` says whether
    the directory as the task found it was kept (for diffs and replay), ``note`` why not.
    """

    execution_id: str
    task_run_id: str
    task_id: str
    changes: Any
    snapshot: bool
    note: str | None = None


@dataclass(frozen=True)
class PausedAtTask:
    """The execution waits before (breakpoint, step) or inside (Pause task) a task."""

    execution_id: str
    task_id: str
    task_run_id: str | None
    reason: str                                   # "pause" (a Pause task), "breakpoint", "step"
    details: dict[str, Any] | None = None
    inspection: PauseInspection | None = None     # before a task: what the debugger shows


Event = (
    ExecutionChanged | TaskRunChanged | LogLine | LogBatch | MetricRecorded | OutputFileCaptured
    | WorkingDirectoryChanged | PausedAtTask | TaskFilesChanged
)
Subscriber = Callable[[Event], None]
E = TypeVar("E")


class FanOut(Generic[E]):
    """Synchronous fan-out: subscribers run in the publishing thread, so they must be quick."""

    def __init__(self) -> None:
        self._subscribers: tuple[Callable[[E], None], ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Callable[[E], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def publish(self, event: E) -> None:
        for subscriber in self._subscribers:
            subscriber(event)


class EventBus(FanOut[Event]):
    """The executor's events, to the TUI, the CLI, history and tests."""

    def subscribe(self, subscriber: Subscriber, *, batches: bool = False) -> Callable[[], None]:
        """``batches``: the subscriber handles :class:`LogBatch` itself; otherwise it gets
        each line of a batch as a :class:`LogLine`, as if the lines had come one by one."""
        if batches:
            return super().subscribe(subscriber)

        def per_line(event: Event) -> None:
            if type(event) is LogBatch:
                for line in event.lines():
                    subscriber(line)
            else:
                subscriber(event)

        return super().subscribe(per_line)
