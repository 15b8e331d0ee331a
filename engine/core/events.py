"""The typed events the executor publishes; the TUI, the CLI, history and tests consume them."""

from __future__ import annotations

import threading
from collections.abc import Callable
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
    ExecutionChanged | TaskRunChanged | LogLine | MetricRecorded | OutputFileCaptured
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
