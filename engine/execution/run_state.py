"""The progress of one execution: its record, task runs and outputs (Dagster's ActiveExecution).

Every change goes through here so that it is published in order: one re-entrant lock
guards the task runs and outputs, and the matching event is published while it is held,
so a subscriber never sees a task run go back to an older state. Cancellation and the
Pause task's resume live here too: every part of the executor asks `cancelled`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from engine.core.events import (
    EventBus,
    ExecutionChanged,
    LogBatch,
    LogLine,
    PausedAtTask,
    TaskRunChanged,
)
from engine.core.records import Execution, TaskRun, evolve, utcnow
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
        # `tasks.<id>.state` for templates, kept up to date per change instead of rebuilt from
        # every task run at every render (that made a long flow quadratic)
        self._runs_of_task: dict[str, list[str]] = {}
        self._state_entries: dict[str, Any] = {}
        self._states_view: dict[str, Any] | None = None
        self._notices: set[str] = set()
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self.exit_state: State | None = None   # set by an Exit task: the state the execution ends in
        self.resume_inputs: dict[str, Any] = {}   # the values the last resume gave (onResume)
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
            self.execution = self.execution.with_state(state, **changes)
            self.bus.publish(ExecutionChanged(self.execution))

    def merge_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """A Labels task: new labels over the execution's, published (history keeps them)."""
        with self.lock:
            merged = {**self.execution.labels, **labels}
            self.execution = dataclasses.replace(self.execution, labels=merged)
            self.bus.publish(ExecutionChanged(self.execution))
            return dict(merged)

    def request_exit(self, state: State) -> None:
        """An Exit task: the execution ends in `state`; no task starts from now on."""
        with self.lock:
            if self.exit_state is None:
                self.exit_state = state

    def put_task_run(self, task_run: TaskRun, *, publish: bool = True) -> TaskRun:
        """Keep `task_run` as the run's latest record and tell the bus; with `publish=False` the
        bus hears of it with the run's next published change (a CREATED that RUNNING follows at
        once, the runner's name): the record carries every state entry either way."""
        with self.lock:
            previous = self._task_runs.get(task_run.id)
            self._task_runs[task_run.id] = task_run
            if previous is None:
                self._runs_of_task.setdefault(task_run.task_id, []).append(task_run.id)
            if previous is None or previous.state is not task_run.state or previous.value != task_run.value:
                self._refresh_state_entry(task_run.task_id)
            if publish:
                self.bus.publish(TaskRunChanged(task_run))
        return task_run

    def task_states(self) -> dict[str, Any]:
        """`tasks.<id>.state`, and `tasks.<id>.<value>.state` for ForEach children (Kestra's
        `tasks`): each task id in the order it first ran, its latest run's state winning.
        The entries are never changed once built, so the copy handed out is a shallow one."""
        with self.lock:
            if self._states_view is None:
                self._states_view = dict(self._state_entries)
            return self._states_view

    def _refresh_state_entry(self, task_id: str) -> None:
        """Fold the runs of one task id in the order they were created (a task run's task id
        never changes): a run outside a loop sets the state, a ForEach child its value's."""
        entry: dict[str, Any] | None = None
        for run_id in self._runs_of_task.get(task_id, ()):
            run = self._task_runs[run_id]
            if run.value is None:
                entry = {"state": run.state.value}
            else:
                if entry is None:
                    entry = {}
                entry[run.value] = {"state": run.state.value}
        if entry is not None:
            self._state_entries[task_id] = entry
        self._states_view = None

    def set_task_state(self, task_run_id: str, state: State, **changes: Any) -> TaskRun:
        with self.lock:
            return self.put_task_run(self._task_runs[task_run_id].with_state(state, **changes))

    def update_task_run(self, task_run_id: str, *, publish: bool = True, **changes: Any) -> None:
        with self.lock:
            self.put_task_run(evolve(self._task_runs[task_run_id], changes), publish=publish)

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

    def log_lines(self, task_run_id: str, task_id: str, level: str, messages: list[str]) -> None:
        """Lines read together (one pipe read): one event, masked line by line only when the
        execution has secrets (masking a million lines for nothing costs a second)."""
        masker = self.masker
        if masker.active:
            messages = [masker.mask(message) for message in messages]
        self.bus.publish(LogBatch(self.execution.id, task_run_id, task_id, level, tuple(messages), utcnow()))

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
        if self.exit_state is not None:   # an Exit task ended the execution: nothing starts
            return False
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

    def resume(self, inputs: Mapping[str, Any] | None = None) -> None:
        """Release a waiting Pause; `inputs` answer its `onResume` (Kestra's resume form)."""
        with self.lock:
            self.resume_inputs = dict(inputs or {})
        self._resume.set()

    def pause_for_resume(self, task_run_id: str, task_id: str, timeout: timedelta | None,
                         resume_on_timeout: bool = True) -> bool:
        """A Pause task: PAUSED until resumed (True) or until the delay ran out (False).

        As Kestra records it, a resume (or a delay that resumes) puts the task back to RUNNING;
        a wait that runs out into WARN/FAIL/CANCEL goes from PAUSED straight to its end state.
        """
        self._resume.clear()
        self.set_task_state(task_run_id, State.PAUSED)
        self.set_execution_state(State.PAUSED)
        self.bus.publish(PausedAtTask(self.execution.id, task_id, task_run_id, "pause"))
        resumed = self._resume.wait(bounded_seconds(timeout) if timeout else None)
        self.set_execution_state(State.RUNNING)
        if resumed or resume_on_timeout or self.cancelled:
            self.set_task_state(task_run_id, State.RUNNING)
        return resumed and not self.cancelled
