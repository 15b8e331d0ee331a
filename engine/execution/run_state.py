"""The progress of one execution: its record, task runs and outputs (Dagster's ActiveExecution).

Every change goes through here so that it is published in order: one re-entrant lock
guards the task runs and outputs, and the matching event is published while it is held,
so a subscriber never sees a task run go back to an older state. Cancellation and the
Pause task's resume live here too: every part of the executor asks `cancelled`.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from typing import Any

from engine.core.events import EventBus, ExecutionChanged, LogLine, PausedAtTask, TaskRunChanged
from engine.core.records import Execution, TaskRun, utcnow
from engine.core.states import State
from engine.store.secrets import Masker

# Longer waits overflow the platform's time_t inside threading (P999999999D); ~30 years is forever here.
_MAX_WAIT_SECONDS = 1e9


def bounded_seconds(duration: timedelta) -> float:
    """A delay as seconds that threading can wait for."""
    return min(duration.total_seconds(), _MAX_WAIT_SECONDS)


class RunState:
    """Task runs, outputs, events and control flags of one execution; safe from any thread."""

    def __init__(self, execution: Execution, bus: EventBus, masker: Masker) -> None:
        self.execution = execution
        self.bus = bus
        self.masker = masker
        self.lock = threading.RLock()
        self.outputs: dict[str, Any] = {}
        self.finished = threading.Event()
        self._task_runs: dict[str, TaskRun] = {}
        self._notices: set[str] = set()
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self._running: set[threading.Event] = set()   # the stop events of the tasks running now
        self._scheduled = threading.local()   # per thread: the last task allowed despite a cancel?

    # --- records -----------------------------------------------------------------
    def task_runs(self) -> list[TaskRun]:
        with self.lock:
            return list(self._task_runs.values())

    def task_run(self, task_run_id: str) -> TaskRun:
        return self._task_runs[task_run_id]

    def started_task_ids(self) -> set[str]:
        """Tasks that started already (a hot reload tells the user their edits wait for a re-run)."""
        with self.lock:
            return {tr.task_id for tr in self._task_runs.values()
                    if tr.state not in (State.CREATED, State.PAUSED)}

    def set_execution_state(self, state: State, **changes: Any) -> None:
        with self.lock:
            self.execution = dataclasses.replace(self.execution.with_state(state), **changes)
            self.bus.publish(ExecutionChanged(self.execution))

    def put_task_run(self, task_run: TaskRun) -> TaskRun:
        with self.lock:
            self._task_runs[task_run.id] = task_run
            self.bus.publish(TaskRunChanged(task_run))
        return task_run

    def set_task_state(self, task_run_id: str, state: State, **changes: Any) -> TaskRun:
        with self.lock:
            current = self._task_runs[task_run_id]
            return self.put_task_run(dataclasses.replace(current.with_state(state), **changes))

    def update_task_run(self, task_run_id: str, **changes: Any) -> None:
        with self.lock:
            self.put_task_run(dataclasses.replace(self._task_runs[task_run_id], **changes))

    def add_metric(self, task_run_id: str, metric: dict[str, Any]) -> None:
        with self.lock:
            current = self._task_runs[task_run_id]
            self._task_runs[task_run_id] = dataclasses.replace(current, metrics=(*current.metrics, metric))

    def record_outputs(self, task_id: str, value_path: tuple[str, ...], outputs: dict[str, Any]) -> None:
        """A task's outputs for templates, nested by ForEach value (`outputs.t['a'].value`)."""
        with self.lock:
            if not value_path:
                self.outputs[task_id] = outputs
                return
            node = self.outputs.setdefault(task_id, {})
            for value in value_path[:-1]:
                node = node.setdefault(value, {})
            node[value_path[-1]] = outputs

    def first_notice(self, key: str) -> bool:
        with self.lock:
            if key in self._notices:
                return False
            self._notices.add(key)
            return True

    def log(self, task_run_id: str | None, task_id: str | None, level: str, message: str) -> None:
        masked = self.masker.mask(message)
        self.bus.publish(LogLine(self.execution.id, task_run_id, task_id, level, masked, utcnow()))

    # --- control -----------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def request_cancel(self) -> None:
        """Mark the execution cancelled and release a Pause task waiting for resume."""
        self._cancel.set()
        self._resume.set()

    def stop_running_tasks(self) -> None:
        with self.lock:
            for stop in list(self._running):
                stop.set()

    def may_start(self, even_if_cancelled: bool = False) -> bool:
        """Asked before each task of a sequence: not once cancelled, unless the sequence runs
        even then (a flow's ``finally``). Remembered for this thread until the task starts:
        one allowed before the cancel is stopped by it even if it starts after it."""
        cancelled = self._cancel.is_set()
        self._scheduled.despite_cancel = cancelled
        return even_if_cancelled or not cancelled

    def task_started(self, stop: threading.Event) -> None:
        """A task began: a cancel from now on sets its ``stop``, and so does one that came
        between ``may_start`` and now (a Parallel branch slow to get here, on a busy machine)."""
        with self.lock:
            self._running.add(stop)
            if self._cancel.is_set() and not getattr(self._scheduled, "despite_cancel", False):
                stop.set()

    def task_ended(self, stop: threading.Event) -> None:
        with self.lock:
            self._running.discard(stop)

    def resume(self) -> None:
        self._resume.set()

    def pause_for_resume(self, task_run_id: str, task_id: str, timeout: timedelta | None) -> bool:
        """A Pause task: PAUSED until resumed (True) or until the delay ran out (False)."""
        self._resume.clear()
        self.set_task_state(task_run_id, State.PAUSED)
        self.set_execution_state(State.PAUSED)
        self.bus.publish(PausedAtTask(self.execution.id, task_id, task_run_id, "pause"))
        resumed = self._resume.wait(bounded_seconds(timeout) if timeout else None)
        self.set_execution_state(State.RUNNING)
        self.set_task_state(task_run_id, State.RUNNING)
        return resumed and not self.cancelled
