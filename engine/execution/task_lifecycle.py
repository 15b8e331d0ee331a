"""One task from CREATED to a terminal state (Dagster's execute_step).

The order is Kestra's: a replay may copy the task instead of running it; a stand-in (a
test's fixture) may replace it, as Kestra's executor answers a fixture's task run without a
worker, before breakpoints and `runIf`; the debugger's gate may pause, skip or abort it;
`runIf` may skip it; then attempts run under the retry policy, each one under the task's
timeout; `allowFailure` / `allowWarning` soften the end state, and the outputs are recorded
for the templates of the tasks after it.
This runs once per task: it keeps to direct attribute reads and adds no layer of calls.
"""

from __future__ import annotations

import threading
import time
import traceback
from datetime import timedelta
from typing import Any

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.core.records import TaskRun
from engine.core.retry import RetryConfigError, RetryPolicy
from engine.core.states import State
from engine.core.truth import is_truthy
from engine.execution.debug_session import DebugSession
from engine.execution.run_state import bounded_seconds
from engine.execution.runtime import TaskStandIn
from engine.execution.scope import Scope
from engine.execution.task_context import RunServices, RunTaskContext
from engine.tasks.base import Task, TaskResult


class TaskLifecycle:
    """Runs single tasks of one execution: `run_task` is what the tree walker calls."""

    def __init__(self, run: RunServices, debug: DebugSession) -> None:
        self._run = run                  # handed to every task's context
        self._state = run.state
        self._runtime = run.runtime
        self._versions = run.versions
        self._workdirs = run.workdirs
        self._replay = run.replay
        self._debug = debug
        self._debugger = debug.debugger
        self._fixtures = run.options.task_fixtures

    def run_task(self, task: Task, scope: Scope, *, gate: bool = True) -> TaskRun:
        """One task from CREATED to a terminal state, with runIf, retries, timeout and allowFailure."""
        state = self._state
        parent_id = scope.parent.id if scope.parent else None
        if self._replay is not None:
            copied = self._replay.copy_if_reused(task.id, scope.value_path, parent_id)
            if copied is not None:
                return copied
        stand_in = self._stand_in(task.id, scope.value) if self._fixtures else None
        # CREATED goes out on its own only when something may happen before RUNNING (a pause,
        # runIf, a stand-in); else RUNNING, a few microseconds later, carries both entries.
        straight_to_running = stand_in is None and task.run_if is None and not (gate and self._debugger.active)
        task_run = state.put_task_run(TaskRun(
            id=new_id(), execution_id=state.execution.id, task_id=task.id, task_type=task.type,
            parent_task_run_id=parent_id, value=scope.value, value_path=scope.value_path,
            working_dir=str(scope.working_dir) if scope.working_dir else None,
            mocked=stand_in is not None, iteration=scope.iteration,
        ).with_state(State.CREATED), publish=not straight_to_running)
        if stand_in is not None:
            return self._stand_in_for(task, scope, task_run, stand_in)
        if gate and self._debugger.active:
            latest, ended = self._debug.pause_before(task, scope, task_run, self._rerun)
            if ended is not None or latest is None:
                return ended or state.set_task_state(task_run.id, State.SKIPPED)
            task = latest
            stand_in = self._stand_in(task.id, scope.value) if self._fixtures else None
            if stand_in is not None:  # given while paused (the workbench's mock of the task)
                state.update_task_run(task_run.id, mocked=True)
                return self._stand_in_for(task, scope, task_run, stand_in)
        ctx = RunTaskContext(self._run, task, task_run, scope)
        if task.run_if is not None:
            try:
                condition = ctx.render(task.run_if, "runIf")
            except TaskFailure as failure:
                ctx.error(failure.message)
                return state.set_task_state(task_run.id, State.FAILED)
            if not is_truthy(condition):
                return state.set_task_state(task_run.id, State.SKIPPED)
        state.set_task_state(task_run.id, State.RUNNING)
        state.task_started(ctx.stop)
        tracked = scope.working_dir if not task.FLOWABLE else None
        if tracked is not None:
            self._workdirs.before_task(task_run.id, task.id, tracked)
        try:
            end, outputs, attempts = self._run_attempts(task, ctx)
        finally:
            state.task_ended(ctx.stop)
            if tracked is not None:
                self._workdirs.after_task(task_run.id, task.id, tracked)
        end = self._check_lost_logs(ctx, end)
        if end is State.FAILED and task.allow_failure:
            end = State.WARNING
        if end is State.WARNING and task.allow_warning:
            end = State.SUCCESS
        state.record_outputs(task.id, scope.value_path, outputs)
        masked = state.masker.mask_value(outputs)
        self._debug.last_finished = (task, scope)
        rendered = state.masker.mask_value(ctx.rendered) if ctx.rendered else {}
        return state.set_task_state(task_run.id, end, outputs=masked, attempts=attempts, rendered=rendered,
                                    runner=ctx.runner)

    def add_stand_in(self, stand_in: TaskStandIn) -> None:
        """A stand-in given while the run goes (the workbench's answer at a pause before it)."""
        self._fixtures = {**self._fixtures, stand_in.task_id: (stand_in,)}

    def _stand_in(self, task_id: str, value: str | None) -> TaskStandIn | None:
        """Kestra's getFixtureForTaskRun: same task id and same value (None outside loops)."""
        return next((s for s in self._fixtures.get(task_id, ()) if s.value == value or s.every_value),
                    None)

    def _stand_in_for(self, task: Task, scope: Scope, task_run: TaskRun, stand_in: TaskStandIn) -> TaskRun:
        """The task never runs: its outputs are rendered now and its state is the stand-in's.

        As in Kestra, neither `runIf`, retries nor `allowFailure` apply: the state is as given
        (a FAILED fixture sends the flow to its `errors`). Outputs that fail to render fail it.
        """
        state = self._state
        ctx = RunTaskContext(self._run, task, task_run, scope)
        ctx.extra_variables = dict(stand_in.variables)
        end = stand_in.state
        try:
            outputs = ctx.render(dict(stand_in.outputs), "outputs") if stand_in.outputs else {}
        except TaskFailure as failure:
            ctx.error(failure.message)
            end, outputs = State.FAILED, {}
        what = "a mock" if stand_in.every_value else "a fixture"
        ctx.log("DEBUG", f"task '{task.id}' did not run: {what} stands in for it ({end.value})")
        state.record_outputs(task.id, scope.value_path, outputs)
        return state.set_task_state(task_run.id, end, outputs=state.masker.mask_value(outputs))

    def _rerun(self, task: Task, scope: Scope) -> TaskRun:
        """The debugger's re-run of the last task: no second pause before it."""
        return self.run_task(task, scope, gate=False)

    def _check_lost_logs(self, ctx: RunTaskContext, end: State) -> State:
        """Log lines the history could not save (a full disk) fail the task; cheap when none."""
        history = self._runtime.history
        if history is None or not (history.write_errors or history.low_on_space()):
            return end
        history.flush(5)  # only when the history is (or may soon be) in trouble: this task's lines count
        lost = int(history.lost_logs.get(ctx.task_run_id, 0))
        if lost and end not in (State.FAILED, State.KILLED):
            ctx.error(f"{lost} log line(s) of this task could not be saved in {history.path}: "
                      f"{history.last_write_error}")
            return State.FAILED
        return end

    def _run_attempts(self, task: Task, ctx: RunTaskContext) -> tuple[State, dict[str, Any], int]:
        policy = self._retry_policy(task, ctx)
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            if attempts > 1:  # Kestra's taskrun.attemptsCount: the attempts before this one (0 first)
                self._state.update_task_run(ctx.task_run_id, attempts=attempts - 1)
            state, outputs = self._run_once(task, ctx)
            if state is not State.FAILED or policy is None or self._state.cancelled or ctx.timed_out:
                break
            delay = policy.next_delay(attempts, timedelta(seconds=time.monotonic() - started))
            if delay is None:
                break
            ctx.warn(f"attempt {attempts} failed; retrying in {delay.total_seconds():g}s")
            if ctx.stop.wait(delay.total_seconds()):
                state = State.KILLED
                break
            ctx.stop.clear()
        if state is State.SUCCESS and attempts > 1 and policy is not None and policy.warning_on_retry:
            state = State.WARNING
        return state, outputs, attempts

    def _retry_policy(self, task: Task, ctx: RunTaskContext) -> RetryPolicy | None:
        """Kestra's ExecutorService: only runnable tasks retry, with their own `retry`, else the
        nearest enclosing flowable's, else the flow's; a flowable is never re-run as a whole."""
        if task.FLOWABLE:
            return None
        raw = next((r for r in (task.retry, ctx.scope.retry, self._versions.current.retry)
                    if r is not None), None)
        if not raw:
            return None
        if isinstance(raw, dict) and str(raw.get("behavior", "")).upper() == "CREATE_NEW_EXECUTION":
            ctx.notice_once("retry-new-execution", "retry behavior CREATE_NEW_EXECUTION: Roost "
                            "retries the task inside this execution (as RETRY_FAILED_TASK does)")
        try:
            return RetryPolicy.parse(raw)
        except (RetryConfigError, ValueError) as exc:
            ctx.warn(f"retry ignored: {exc}")
            return None

    def _run_once(self, task: Task, ctx: RunTaskContext) -> tuple[State, dict[str, Any]]:
        timer = None
        try:
            # Inside the try: a timeout that renders to nonsense fails this task, not the execution.
            timer = _start_timeout(task, ctx)
            result = task.run(ctx)
            if isinstance(result, TaskResult):
                state, outputs = result.state, result.outputs
            else:
                state, outputs = State.SUCCESS, result or {}
        except TaskFailure as failure:
            ctx.error(failure.message)
            state, outputs = State.FAILED, failure.outputs
        except Exception as exc:
            ctx.error(f"internal error in task '{task.id}': {exc!r}")
            ctx.log("TRACE", traceback.format_exc())
            state, outputs = State.FAILED, {}
        finally:
            if timer is not None:
                timer.cancel()
        if ctx.timed_out:
            ctx.error(f"task '{task.id}' timed out after {task.timeout}")
            state = State.FAILED
        elif ctx.stop.is_set() and self._state.cancelled:
            state = State.KILLED
        return state, outputs


def _start_timeout(task: Task, ctx: RunTaskContext) -> threading.Timer | None:
    if task.timeout is None or task.OWN_TIMEOUT:
        return None
    duration = ctx.render_duration(task.timeout, "timeout")
    if duration is None:
        return None

    def expire() -> None:
        ctx.timed_out = True
        ctx.stop.set()

    timer = threading.Timer(bounded_seconds(duration), expire)
    timer.daemon = True
    timer.start()
    return timer
