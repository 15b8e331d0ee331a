"""The debugger's side of one execution: the gate before a task, and what a pause shows.

`Debugger` (pause_gate.py) decides when to pause and hands commands over between
threads; this module is what the pause does to the execution: the inspection shown
(properties rendered, source, variables, all masked), the commands' effects (skip,
abort, re-run the last task), expressions evaluated against the paused task's
variables, and a fresh inspection after the flow was edited while paused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from engine.core.debug import DebugCommand, PauseInspection
from engine.core.events import PausedAtTask
from engine.core.records import TaskRun, utcnow
from engine.core.states import State
from engine.execution.flow_versions import FlowVersions
from engine.execution.pause_gate import Debugger
from engine.execution.run_state import RunState
from engine.execution.runtime import Runtime
from engine.execution.scope import Scope
from engine.execution.tree_walker import RunTask
from engine.execution.variables import RunVariables
from engine.execution.workdir_hooks import WorkdirHooks
from engine.tasks.base import Task


class DebugSession:
    """Breakpoints and stepping applied to one execution's tasks."""

    def __init__(self, debugger: Debugger, runtime: Runtime, state: RunState, versions: FlowVersions,
                 variables: RunVariables, workdirs: WorkdirHooks, cancel: Callable[[], None]) -> None:
        self.debugger = debugger
        self._runtime = runtime
        self._state = state
        self._versions = versions
        self._variables = variables
        self._workdirs = workdirs
        self._cancel = cancel
        self.last_finished: tuple[Task, Scope] | None = None     # what RERUN runs again
        self._paused_variables: dict[str, Any] | None = None
        self._paused_at: tuple[Task, Scope, str, str] | None = None

    def pause_before(self, task: Task, scope: Scope, task_run: TaskRun,
                     rerun: RunTask) -> tuple[Task | None, TaskRun | None]:
        """The gate before a task: (task to run, None) or (_, the task run, ended)."""
        state = self._state
        while True:
            reason = "breakpoint" if task.id in self.debugger.breakpoints else "step"
            command = self.debugger.gate(
                task.id,
                inspect=functools.partial(self._inspect, task, scope, task_run.id, reason),
                on_pause=lambda info: self._publish_pause(task_run.id, info),
                cancelled=lambda: state.cancelled,
            )
            if command is None:
                return task, None
            self._count_paused_time(task_run.id)
            self._paused_variables = None
            self._paused_at = None
            if scope.working_dir is not None:
                self._workdirs.mark_touched(scope.working_dir)  # a shell may have changed it
            if state.execution.state is State.PAUSED:
                state.set_execution_state(State.RUNNING)
            if command is DebugCommand.ABORT:
                state.log(task_run.id, task.id, "WARN", "execution aborted from the debugger")
                self._cancel()
                return task, state.set_task_state(task_run.id, State.KILLED)
            latest = self._versions.latest(task)
            if latest is None:
                state.log(task_run.id, task.id, "WARN", f"task '{task.id}' was removed from the flow "
                                                        "while paused: not run")
                return None, state.set_task_state(task_run.id, State.SKIPPED)
            task = latest
            if command is DebugCommand.SKIP:
                state.log(task_run.id, task.id, "INFO", f"task '{task.id}' skipped from the debugger")
                return task, state.set_task_state(task_run.id, State.SKIPPED)
            if command is DebugCommand.RERUN:
                self._rerun_last(task_run, rerun)
                continue
            return task, None

    def _count_paused_time(self, task_run_id: str) -> None:
        """The pause just answered: its length goes to the run's ``paused_seconds``, so the
        run's duration counts running time only (a replay copies that, not the wait)."""
        state = self._state
        run = state.task_run(task_run_id)
        paused_at = next((entry.date for entry in reversed(run.histories)
                          if entry.state is State.PAUSED), None)
        if paused_at is None:
            return
        waited = max(0.0, (utcnow() - paused_at).total_seconds())
        state.update_task_run(task_run_id, paused_seconds=run.paused_seconds + waited)

    def _rerun_last(self, waiting: TaskRun, rerun: RunTask) -> None:
        """`.`: run the task that finished last again (its newest definition), in its scope."""
        state = self._state
        last = self.last_finished
        if last is None:
            state.log(waiting.id, waiting.task_id, "WARN", "no task has finished yet: nothing to re-run")
            return
        previous, scope = last
        latest = self._versions.latest(previous)
        if latest is None:
            state.log(waiting.id, waiting.task_id, "WARN",
                      f"task '{previous.id}' is no longer in the flow: nothing to re-run")
            return
        state.log(None, latest.id, "INFO", f"re-running task '{latest.id}'")
        state.set_task_state(waiting.id, State.CREATED)
        rerun(latest, scope)

    def _publish_pause(self, task_run_id: str, info: PauseInspection) -> None:
        state = self._state
        state.set_task_state(task_run_id, State.PAUSED)
        state.set_execution_state(State.PAUSED)
        state.bus.publish(PausedAtTask(state.execution.id, info.task_id, task_run_id, info.reason,
                                       inspection=info))

    def _inspect(self, task: Task, scope: Scope, task_run_id: str, reason: str) -> PauseInspection:
        from engine.execution.debug_inspect import (
            masked_variables,
            render_properties,
            task_source_block,
        )

        variables = self._variables.for_task(task, self._state.task_run(task_run_id), scope, {})
        self._paused_variables = variables
        self._paused_at = (task, scope, task_run_id, reason)
        masker = self._runtime.masker
        templates, services = self._runtime.templates, self._variables.services

        def render(raw: Any) -> Any:
            return templates.render_value(raw, variables, services)

        properties, errors = render_properties(task.source, render, masker)
        position = task.position
        last = self.last_finished
        return PauseInspection(
            execution_id=self._state.execution.id, task_id=task.id, task_run_id=task_run_id,
            task_type=task.type, reason=reason, properties=properties, property_errors=errors,
            source_line=position.line,
            source=task_source_block(self._versions.current.text, position.line, position.column),
            variables=masked_variables(variables, masker),
            working_dir=str(scope.working_dir) if scope.working_dir else None,
            previous_task_id=last[0].id if last else None,
        )

    def refresh_after_edit(self) -> None:
        """After an edit while paused: show the paused task as its new definition renders."""
        paused_at, current = self._paused_at, self.debugger.paused
        if paused_at is None or current is None or current.task_run_id != paused_at[2]:
            return
        task, scope, task_run_id, reason = paused_at
        latest = self._versions.latest(task)
        if latest is None:
            return
        info = self._inspect(latest, scope, task_run_id, reason)
        if self.debugger.refresh(info):
            self._state.bus.publish(PausedAtTask(self._state.execution.id, info.task_id, task_run_id,
                                                 reason, inspection=info))

    def evaluate(self, expression: str) -> Any:
        """Evaluate against the paused task's variables, else the execution's; masked result."""
        from engine.execution.expression_eval import evaluate_expression

        with self._state.lock:
            variables = dict(self._paused_variables or self._variables.base)
            variables["outputs"] = dict(self._state.outputs)
        return evaluate_expression(self._runtime, expression, variables, self._variables.services)
