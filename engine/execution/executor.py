"""The in-process executor: runs a flow's tasks, publishes events, obeys control commands.

Kestra splits this across an executor and workers talking through a queue;
here one execution is one thread that walks the task tree, and flowable tasks
run their children through their TaskContext. Parallel branches get threads.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.core.debug import DebugCommand, PauseInspection
from engine.execution.pause_gate import Debugger
from engine.core.errors import TaskFailure
from engine.core.events import EventBus, ExecutionChanged, LogLine, PausedAtTask, TaskRunChanged
from engine.core.records import Execution, TaskRun, utcnow
from engine.flow.model import Flow
from engine.flow.diff import FlowUpdate
from engine.core.ids import new_id
from engine.core.retry import RetryConfigError, RetryPolicy
from engine.execution.runtime import RunOptions, Runtime
from engine.core.states import State, combine_states
from engine.store.storage import StorageError
from engine.execution.task_context import ChildGroup, TaskContext
from engine.tasks.base import Task, TaskResult
from engine.core.truth import is_truthy
from engine.execution.worker_pool import ElasticPool


@dataclass(frozen=True)
class Scope:
    """Where a task runs in the tree: its parent run, iteration value and shared directory."""

    parent: TaskRun | None = None
    value: str | None = None
    value_path: tuple[str, ...] = ()
    parents: tuple[dict[str, Any], ...] = ()
    working_dir: Path | None = None


class ExecutionHandle:
    """Control of one running execution: cancel, resume, wait; safe from any thread."""

    def __init__(self, run: ExecutionRun) -> None:
        self._run = run
        self.execution_id = run.execution.id
        self.thread: threading.Thread | None = None

    @property
    def execution(self) -> Execution:
        return self._run.execution

    def task_runs(self) -> list[TaskRun]:
        return self._run.task_runs()

    def cancel(self) -> None:
        self._run.cancel()

    def resume(self) -> None:
        self._run.resume()

    # --- debugging: breakpoints, stepping, commands while paused --------------------------
    @property
    def debugger(self) -> Debugger:
        return self._run.debugger

    @property
    def paused(self) -> PauseInspection | None:
        """The pause before a task (breakpoint or step) waiting for a command, if any."""
        return self._run.debugger.paused

    def command(self, command: DebugCommand) -> bool:
        """Answer the pause before a task; False when the execution is not paused there."""
        return self._run.debugger.send(command)

    def update_flow(self, flow: Flow) -> FlowUpdate:
        """A new version of the flow for the tasks not run yet (hot reload while paused)."""
        return self._run.update_flow(flow)

    def evaluate(self, expression: str) -> Any:
        """A Pebble expression (or a template) against this execution, as it is now."""
        return self._run.evaluate(expression)

    def wait(self, timeout: float | None = None) -> Execution:
        if self.thread is not None:
            self.thread.join(timeout)
        return self._run.execution

    @property
    def done(self) -> bool:
        return self._run.finished.is_set()


class Executor:
    """Creates executions of flows and runs them, in this thread or in a background one."""

    def __init__(self, runtime: Runtime, bus: EventBus | None = None) -> None:
        self.runtime = runtime
        self.bus = bus or EventBus()
        if runtime.history is not None:
            runtime.history.attach(self.bus)

    def prepare(self, flow: Flow, inputs: Mapping[str, Any] | None = None, *,
                trigger: dict[str, Any] | None = None, labels: Mapping[str, str] | None = None,
                options: RunOptions | None = None, execution_id: str | None = None,
                original_id: str | None = None) -> ExecutionHandle:
        """Validate inputs and create the execution (raises InputError before anything runs)."""
        from engine.flow.inputs import resolve_inputs

        execution_id = execution_id or new_id()

        def store_file(input_id: str, path: Path) -> str:
            uri = self.runtime.storage.input_file_uri(flow.namespace, flow.id, execution_id,
                                                      input_id, path.name)
            self.runtime.storage.put_file(uri, path)
            return uri

        resolved = resolve_inputs(flow.inputs, dict(inputs or {}), store_file=store_file)
        _mask_secret_inputs(self.runtime.masker, flow, resolved)
        execution = Execution(
            id=execution_id, namespace=flow.namespace, flow_id=flow.id,
            inputs=resolved, labels={**flow.labels, **dict(labels or {})}, trigger=trigger,
            flow_path=flow.path, original_id=original_id,
        )
        run = ExecutionRun(self.runtime, self.bus, flow, execution, options or RunOptions())
        return ExecutionHandle(run)

    def run(self, flow: Flow, inputs: Mapping[str, Any] | None = None, **kwargs: Any) -> Execution:
        """Run to the end in the calling thread."""
        handle = self.prepare(flow, inputs, **kwargs)
        handle._run.execute()
        return handle.execution

    def start(self, handle: ExecutionHandle) -> ExecutionHandle:
        """Run a prepared execution in a background thread."""
        thread = threading.Thread(target=handle._run.execute, name=f"execution-{handle.execution_id}",
                                  daemon=True)
        handle.thread = thread
        thread.start()
        return handle


class ExecutionRun:
    """The state of one execution while it runs; only the executor thread(s) mutate it."""

    def __init__(self, runtime: Runtime, bus: EventBus, flow: Flow, execution: Execution,
                 options: RunOptions) -> None:
        self.runtime = runtime
        self.bus = bus
        self.flow = flow
        self.execution = execution
        self.options = options
        self._task_runs: dict[str, TaskRun] = {}
        self.outputs: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self._active: set[TaskContext] = set()
        self.finished = threading.Event()
        self._base_variables = self._make_base_variables()
        # Templates read the real inputs (above); events, history and JSON carry the masked ones.
        masked_inputs: dict[str, Any] = runtime.masker.mask_value(execution.inputs)  # type: ignore[assignment]
        self.execution = dataclasses.replace(execution, inputs=masked_inputs)
        self._services = _RenderServices(self)
        self._workdirs_created = False
        self._notices: set[str] = set()
        self._pool = ElasticPool(f"exec-{execution.id[:6]}")
        self.debugger = Debugger(options.breakpoints, options.step)
        self._flows: list[Flow] = [flow]         # every version, so old task lists stay known
        self._flow_version = 0
        self._containers: dict[int, tuple[str, str]] = {}
        self._lists: dict[tuple[str, str], Sequence[Task]] = {}
        self._last_finished: tuple[Task, Scope] | None = None
        self._paused_variables: dict[str, Any] | None = None
        self._paused_at: tuple[Task, Scope, str, str] | None = None
        self._tracker: Any = None                  # WorkdirTracker, made by the first task in a WorkingDirectory
        self._tracker_lock = threading.Lock()

    # --- state and events --------------------------------------------------------
    def task_runs(self) -> list[TaskRun]:
        with self._lock:
            return list(self._task_runs.values())

    def task_run(self, task_run_id: str) -> TaskRun:
        return self._task_runs[task_run_id]

    def _set_execution_state(self, state: State, **changes: Any) -> None:
        with self._lock:
            self.execution = dataclasses.replace(self.execution.with_state(state), **changes)
            self.bus.publish(ExecutionChanged(self.execution))

    def _put_task_run(self, task_run: TaskRun) -> TaskRun:
        with self._lock:
            self._task_runs[task_run.id] = task_run
            self.bus.publish(TaskRunChanged(task_run))
        return task_run

    def _set_task_state(self, task_run_id: str, state: State, **changes: Any) -> TaskRun:
        with self._lock:
            current = self._task_runs[task_run_id]
            return self._put_task_run(dataclasses.replace(current.with_state(state), **changes))

    def update_task_run(self, task_run_id: str, **changes: Any) -> None:
        with self._lock:
            self._put_task_run(dataclasses.replace(self._task_runs[task_run_id], **changes))

    def add_metric(self, task_run_id: str, metric: dict[str, Any]) -> None:
        with self._lock:
            current = self._task_runs[task_run_id]
            self._task_runs[task_run_id] = dataclasses.replace(current, metrics=(*current.metrics, metric))

    def first_notice(self, key: str) -> bool:
        with self._lock:
            if key in self._notices:
                return False
            self._notices.add(key)
            return True

    def log(self, task_run_id: str | None, task_id: str | None, level: str, message: str) -> None:
        masked = self.runtime.masker.mask(message)
        self.bus.publish(LogLine(self.execution.id, task_run_id, task_id, level, masked, utcnow()))

    # --- control -----------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._resume.set()
        self.debugger.wake()
        with self._lock:
            for ctx in list(self._active):
                ctx.stop.set()

    def resume(self) -> None:
        self._resume.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # --- running -----------------------------------------------------------------
    def execute(self) -> None:
        """Run the whole flow; never raises (a bug becomes a FAILED execution with a log line)."""
        try:
            self._set_execution_state(State.CREATED)
            self._set_execution_state(State.RUNNING)
            for warning in self.flow.warnings:
                self.log(None, None, "WARN", warning)
            state = self.run_block(self.flow.tasks, self.flow.errors, self.flow.finally_, Scope())
            outputs: dict[str, Any] = {}
            if self.cancelled:
                state = State.KILLED
            elif state in (State.SUCCESS, State.WARNING) and self.flow.outputs:
                outputs, failed = self._render_flow_outputs()
                if failed:
                    state = State.FAILED
            masked = self.runtime.masker.mask_value(outputs)
            self._set_execution_state(state, outputs=masked)
        except Exception as exc:  # a Roost bug must still end the execution consistently
            self.log(None, None, "ERROR", f"internal error: {exc!r}")
            self.log(None, None, "TRACE", traceback.format_exc())
            self._set_execution_state(State.FAILED, error=repr(exc))
        finally:
            self._finish_workdirs()
            self._prune_snapshots()
            self.finished.set()

    def create_working_directory(self, ctx: TaskContext) -> Path:
        from engine.workdir.directories import create_workdir

        self._workdirs_created = True
        try:
            path = create_workdir(self.runtime.home.workdirs, self.flow.namespace, self.flow.id,
                                  self.execution.id, ctx.task.id)
        except OSError as exc:  # a full disk, a read-only ROOST_HOME, a name too long for the disk
            raise TaskFailure(f"cannot create a working directory under {self.runtime.home.workdirs}: "
                              f"{exc.strerror or exc}") from None
        self.update_task_run(ctx.task_run_id, working_dir=str(path))
        return path

    def _finish_workdirs(self) -> None:
        if not self._workdirs_created:
            return
        from engine.workdir.directories import directory_size, finish_execution, human_size

        try:
            kept = finish_execution(self.runtime.home.workdirs, self.flow.namespace, self.flow.id,
                                    self.execution.id, self.options.keep_workdir)
        except OSError as exc:
            self.log(None, None, "WARN", f"cleaning working directories failed: {exc}")
            return
        if kept is not None:
            files, size = directory_size(kept)
            self.log(None, None, "INFO", f"working directories kept at {kept} "
                                         f"({files} files, {human_size(size)})")

    def _prune_snapshots(self) -> None:
        if self._tracker is None:
            return
        from engine.workdir.snapshots import prune_snapshots

        root = self.runtime.home.snapshots
        try:
            folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                             reverse=True)
            keep = {p.name for p in folders[:max(self.runtime.config.snapshot_keep_executions, 1)]}
            prune_snapshots(root, keep | {self.execution.id})
        except OSError as exc:
            self.log(None, None, "WARN", f"pruning old snapshots failed: {exc}")

    def _render_flow_outputs(self) -> tuple[dict[str, Any], bool]:
        outputs: dict[str, Any] = {}
        context = dict(self._base_variables)
        for output in self.flow.outputs:
            try:
                outputs[output.id] = self.runtime.templates.render_value(output.value, context, self._services)
            except Exception as exc:
                self.log(None, None, "ERROR", f"flow output '{output.id}': {getattr(exc, 'message', exc)}")
                return outputs, True
        return outputs, False

    def run_block(self, tasks: Sequence[Task], errors: Sequence[Task], finally_: Sequence[Task],
                  scope: Scope) -> State:
        state = self.run_sequence(tasks, scope)
        if state is State.FAILED and errors and not self.cancelled:
            self.run_sequence(errors, scope)
        if finally_:
            final_state = self.run_sequence(finally_, scope, even_if_cancelled=True)
            state = combine_states([state, final_state])
        return state

    def run_sequence(self, tasks: Sequence[Task], scope: Scope, *, even_if_cancelled: bool = False) -> State:
        states: list[State] = []
        version, position, last_id = self._flow_version, 0, None
        original = tasks
        while True:
            if version != self._flow_version:  # the YAML was saved while paused: follow the new list
                version = self._flow_version
                tasks, position = self._reloaded_list(original, tasks, position, last_id)
            if position >= len(tasks):
                break
            task = tasks[position]
            position += 1
            if task.disabled:
                continue
            if self.cancelled and not even_if_cancelled:
                states.append(State.KILLED)
                break
            last_id = task.id
            task_run = self.run_task(task, scope)
            states.append(task_run.state)
            if task_run.state in (State.FAILED, State.KILLED):
                break
        return combine_states(states)

    def _reloaded_list(self, original: Sequence[Task], current: Sequence[Task], position: int,
                       last_id: str | None) -> tuple[Sequence[Task], int]:
        """The newest version of a task list, and where to go on in it (after the last task run)."""
        key = self._containers.get(id(original))
        fresh = self._lists.get(key) if key is not None else None
        if fresh is None:
            return current, position
        ids = [task.id for task in fresh]
        if last_id in ids:
            return fresh, ids.index(last_id) + 1
        return fresh, min(position, len(fresh))

    def run_groups(self, ctx: TaskContext, groups: Sequence[ChildGroup], limit: int) -> State:
        if not groups:
            return State.SUCCESS
        workers = len(groups) if limit <= 0 else min(limit, len(groups))
        failed = threading.Event()

        def run_group(group: ChildGroup) -> State:
            if failed.is_set() or self.cancelled:
                return State.SKIPPED
            scope = self.child_scope(ctx, value=group.value, working_dir=ctx.working_dir)
            state = self.run_sequence(group.tasks, scope)
            if state in (State.FAILED, State.KILLED):
                failed.set()
            return state

        if workers == 1:
            return combine_states(run_group(g) for g in groups)
        # `workers` lanes each take the next group until none is left: at most `workers` at once.
        pending = iter(enumerate(groups))
        states: list[State] = [State.SKIPPED] * len(groups)
        take = threading.Lock()

        def lane() -> None:
            while True:
                with take:
                    item = next(pending, None)
                if item is None:
                    return
                index, group = item
                states[index] = run_group(group)

        lanes = [self._pool.submit(lane) for _ in range(workers)]
        for finished in lanes:
            finished.result()
        return combine_states(states)

    def child_scope(self, ctx: TaskContext, *, value: str | None, working_dir: Path | None) -> Scope:
        parent_run = ctx.task_run
        scope = ctx.scope
        entry = {"taskrun": {"value": parent_run.value}, "task": {"id": parent_run.task_id}}
        if value is None:
            return Scope(parent=parent_run, value=scope.value, value_path=scope.value_path,
                         parents=(entry, *scope.parents), working_dir=working_dir or scope.working_dir)
        return Scope(parent=parent_run, value=value, value_path=(*scope.value_path, value),
                     parents=(entry, *scope.parents), working_dir=working_dir or scope.working_dir)

    def run_task(self, task: Task, scope: Scope, *, gate: bool = True) -> TaskRun:
        """One task from CREATED to a terminal state, with runIf, retries, timeout and allowFailure."""
        plan = self.options.replay
        if plan is not None:
            original = plan.reused_run(task.id, scope.value_path)
            if original is not None:
                return self._reuse(original, scope.parent.id if scope.parent else None, plan.original_id)
        task_run = self._put_task_run(TaskRun(
            id=new_id(), execution_id=self.execution.id, task_id=task.id, task_type=task.type,
            parent_task_run_id=scope.parent.id if scope.parent else None,
            value=scope.value, value_path=scope.value_path,
            working_dir=str(scope.working_dir) if scope.working_dir else None,
        ).with_state(State.CREATED))
        if gate and self.debugger.active:
            latest, ended = self._pause_before(task, scope, task_run)
            if ended is not None or latest is None:
                return ended or self._set_task_state(task_run.id, State.SKIPPED)
            task = latest
        ctx = TaskContext(self, task, task_run, scope)
        if task.run_if is not None:
            try:
                condition = ctx.render(task.run_if, "runIf")
            except TaskFailure as failure:
                ctx.error(failure.message)
                return self._set_task_state(task_run.id, State.FAILED)
            if not is_truthy(condition):
                return self._set_task_state(task_run.id, State.SKIPPED)
        self._set_task_state(task_run.id, State.RUNNING)
        with self._lock:
            self._active.add(ctx)
        tracked = scope.working_dir if not task.FLOWABLE else None
        if tracked is not None:
            self._track("before", task_run.id, task.id, tracked)
        try:
            state, outputs, attempts = self._run_attempts(task, ctx)
        finally:
            with self._lock:
                self._active.discard(ctx)
            if tracked is not None:
                self._track("after", task_run.id, task.id, tracked)
        lost = self._lost_log_lines(task_run.id)
        if lost and state not in (State.FAILED, State.KILLED) and self.runtime.history is not None:
            history = self.runtime.history
            ctx.error(f"{lost} log line(s) of this task could not be saved in {history.path}: "
                      f"{history.last_write_error}")
            state = State.FAILED
        if state is State.FAILED and task.allow_failure:
            state = State.WARNING
        if state is State.WARNING and task.allow_warning:
            state = State.SUCCESS
        self._record_outputs(task.id, scope.value_path, outputs)
        masked = self.runtime.masker.mask_value(outputs)
        self._last_finished = (task, scope)
        return self._set_task_state(task_run.id, state, outputs=masked, attempts=attempts)

    # --- debugging ---------------------------------------------------------------------
    def _pause_before(self, task: Task, scope: Scope, task_run: TaskRun) -> tuple[Task | None, TaskRun | None]:
        """The debugger's gate before a task: (task to run, None) or (_, the task run, ended)."""
        while True:
            reason = "breakpoint" if task.id in self.debugger.breakpoints else "step"
            command = self.debugger.gate(
                task.id,
                inspect=functools.partial(self._inspect, task, scope, task_run.id, reason),
                on_pause=lambda info: self._publish_pause(task_run.id, info),
                cancelled=lambda: self.cancelled,
            )
            if command is None:
                return task, None
            self._paused_variables = None
            self._paused_at = None
            if scope.working_dir is not None and self._tracker is not None:
                self._tracker.mark_touched(scope.working_dir)  # a shell may have changed it
            if self.execution.state is State.PAUSED:
                self._set_execution_state(State.RUNNING)
            if command is DebugCommand.ABORT:
                self.log(task_run.id, task.id, "WARN", "execution aborted from the debugger")
                self.cancel()
                return task, self._set_task_state(task_run.id, State.KILLED)
            latest = self._latest(task)
            if latest is None:
                self.log(task_run.id, task.id, "WARN", f"task '{task.id}' was removed from the flow "
                                                       "while paused: not run")
                return None, self._set_task_state(task_run.id, State.SKIPPED)
            task = latest
            if command is DebugCommand.SKIP:
                self.log(task_run.id, task.id, "INFO", f"task '{task.id}' skipped from the debugger")
                return task, self._set_task_state(task_run.id, State.SKIPPED)
            if command is DebugCommand.RERUN:
                self._rerun_last(task_run)
                continue
            return task, None

    def _rerun_last(self, waiting: TaskRun) -> None:
        """`.`: run the task that finished last again (its newest definition), in its scope."""
        last = self._last_finished
        if last is None:
            self.log(waiting.id, waiting.task_id, "WARN", "no task has finished yet: nothing to re-run")
            return
        previous, scope = last
        latest = self._latest(previous)
        if latest is None:
            self.log(waiting.id, waiting.task_id, "WARN",
                     f"task '{previous.id}' is no longer in the flow: nothing to re-run")
            return
        self.log(None, latest.id, "INFO", f"re-running task '{latest.id}'")
        self._set_task_state(waiting.id, State.CREATED)
        self.run_task(latest, scope, gate=False)

    def _publish_pause(self, task_run_id: str, info: PauseInspection) -> None:
        self._set_task_state(task_run_id, State.PAUSED)
        self._set_execution_state(State.PAUSED)
        self.bus.publish(PausedAtTask(self.execution.id, info.task_id, task_run_id, info.reason,
                                      inspection=info))

    def _inspect(self, task: Task, scope: Scope, task_run_id: str, reason: str) -> PauseInspection:
        from engine.execution.debug_inspect import masked_variables, render_properties, task_source_block

        ctx = TaskContext(self, task, self.task_run(task_run_id), scope)
        variables = self.variables_for(ctx)
        self._paused_variables = variables
        self._paused_at = (task, scope, task_run_id, reason)
        masker = self.runtime.masker

        def render(raw: Any) -> Any:
            return self.runtime.templates.render_value(raw, variables, self._services)

        properties, errors = render_properties(task.source, render, masker)
        position = task.position
        last = self._last_finished
        return PauseInspection(
            execution_id=self.execution.id, task_id=task.id, task_run_id=task_run_id,
            task_type=task.type, reason=reason, properties=properties, property_errors=errors,
            source_line=position.line,
            source=task_source_block(self.flow.text, position.line, position.column),
            variables=masked_variables(variables, masker),
            working_dir=str(scope.working_dir) if scope.working_dir else None,
            previous_task_id=last[0].id if last else None,
        )

    def _latest(self, task: Task) -> Task | None:
        """The task's definition in the newest version of the flow (None: removed)."""
        if self._flow_version == 0:
            return task
        return self.flow.find_task(task.id)

    def update_flow(self, flow: Flow) -> FlowUpdate:
        """Apply a new version of the flow to the tasks not run yet; says what changed."""
        from engine.flow.diff import compare_flows

        if (flow.namespace, flow.id) != (self.flow.namespace, self.flow.id):
            raise ValueError(f"{flow.namespace}.{flow.id} is another flow than "
                             f"{self.flow.namespace}.{self.flow.id}")
        with self._lock:
            ran = {tr.task_id for tr in self._task_runs.values()
                   if tr.state not in (State.CREATED, State.PAUSED)}
            update = compare_flows(self.flow, flow, ran)
            if not self._containers:
                self._index_containers(self.flow)
            self._index_containers(flow)
            self._flows.append(flow)
            self.flow = flow
            self._base_variables["vars"] = flow.variables
            self._flow_version += 1
        self.log(None, None, "INFO", update.describe())
        self._refresh_pause()
        return update

    def _refresh_pause(self) -> None:
        """After an edit while paused: show the paused task as its new definition renders."""
        paused_at, current = self._paused_at, self.debugger.paused
        if paused_at is None or current is None or current.task_run_id != paused_at[2]:
            return
        task, scope, task_run_id, reason = paused_at
        latest = self._latest(task)
        if latest is None:
            return
        info = self._inspect(latest, scope, task_run_id, reason)
        if self.debugger.refresh(info):
            self.bus.publish(PausedAtTask(self.execution.id, info.task_id, task_run_id, reason,
                                          inspection=info))

    def _index_containers(self, flow: Flow) -> None:
        """Remember every task list of a flow version by identity, keyed by owner and name."""
        lists: list[tuple[tuple[str, str], Sequence[Task]]] = [
            (("", "tasks"), flow.tasks), (("", "errors"), flow.errors), (("", "finally"), flow.finally_)]
        for task in flow.walk_tasks():
            lists.extend(((task.id, name), children) for name, children in task.child_task_lists())
        for key, children in lists:
            self._containers[id(children)] = key
            self._lists[key] = children

    def evaluate(self, expression: str) -> Any:
        """Evaluate against the paused task's variables, else the execution's; masked result."""
        from engine.execution.expression_eval import evaluate_expression

        with self._lock:
            variables = dict(self._paused_variables or self._base_variables)
            variables["outputs"] = dict(self.outputs)
        return evaluate_expression(self.runtime, expression, variables, self._services)

    def _lost_log_lines(self, task_run_id: str) -> int:
        """Log lines of a task run that the history could not save (a full disk); cheap when none."""
        history = self.runtime.history
        if history is None or not history.write_errors:
            return 0
        history.flush(5)  # only once the history is in trouble: make this task's lines count
        return int(history.lost_logs.get(task_run_id, 0))

    def _run_attempts(self, task: Task, ctx: TaskContext) -> tuple[State, dict[str, Any], int]:
        policy = self._retry_policy(task, ctx)
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            state, outputs = self._run_once(task, ctx)
            if state is not State.FAILED or policy is None or self.cancelled or ctx.timed_out:
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

    def _retry_policy(self, task: Task, ctx: TaskContext) -> RetryPolicy | None:
        raw = task.retry if task.retry is not None else (None if task.FLOWABLE else self.flow.retry)
        if not raw:
            return None
        try:
            return RetryPolicy.parse(raw)
        except (RetryConfigError, ValueError) as exc:
            ctx.warn(f"retry ignored: {exc}")
            return None

    def _run_once(self, task: Task, ctx: TaskContext) -> tuple[State, dict[str, Any]]:
        timer = None
        try:
            # Inside the try: a timeout that renders to nonsense fails this task, not the execution.
            timer = self._start_timeout(task, ctx)
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
        elif ctx.stop.is_set() and self.cancelled:
            state = State.KILLED
        return state, outputs

    def _start_timeout(self, task: Task, ctx: TaskContext) -> threading.Timer | None:
        if task.timeout is None:
            return None
        duration = ctx.render_duration(task.timeout, "timeout")
        if duration is None:
            return None

        def expire() -> None:
            ctx.timed_out = True
            ctx.stop.set()

        timer = threading.Timer(_bounded_seconds(duration), expire)
        timer.daemon = True
        timer.start()
        return timer

    def _record_outputs(self, task_id: str, value_path: tuple[str, ...], outputs: dict[str, Any]) -> None:
        with self._lock:
            if not value_path:
                self.outputs[task_id] = outputs
                return
            node = self.outputs.setdefault(task_id, {})
            for value in value_path[:-1]:
                node = node.setdefault(value, {})
            node[value_path[-1]] = outputs

    # --- per-task working directory changes and replay ------------------------------------
    def _track(self, when: str, task_run_id: str, task_id: str, directory: Path) -> None:
        """Manifest (and snapshot) around a task in a shared directory; never fails the task."""
        try:
            tracker = self._workdir_tracker()
            if when == "before":
                tracker.before(task_run_id, task_id, directory)
            else:
                tracker.after(task_run_id, task_id, directory)
        except Exception as exc:
            self.log(task_run_id, task_id, "WARN", f"recording the working directory's changes "
                                                   f"failed: {exc!r}")

    def _workdir_tracker(self) -> Any:
        with self._tracker_lock:
            if self._tracker is None:
                from engine.workdir.tracking import WorkdirTracker

                self._tracker = WorkdirTracker(self.runtime.home.snapshots, self.execution.id,
                                               self.runtime.config.snapshot_cap_bytes,
                                               self.bus.publish, self.log)
            return self._tracker

    def _reuse(self, original: TaskRun, parent_id: str | None, original_execution: str) -> TaskRun:
        """Replay: a task that ran before the replayed one is copied, not run (children too)."""
        plan = self.options.replay
        copy = self._put_task_run(dataclasses.replace(
            original, id=new_id(), execution_id=self.execution.id, parent_task_run_id=parent_id))
        self._record_outputs(original.task_id, tuple(original.value_path), dict(original.outputs))
        self.log(copy.id, copy.task_id, "INFO",
                 f"reused from execution {original_execution} ({original.state.value}); not run again")
        recorded = plan.files.get(original.id) if plan else None
        if recorded is not None:  # what it changed then; the file contents stay in the original's snapshots
            self.bus.publish(dataclasses.replace(
                recorded, execution_id=self.execution.id, task_run_id=copy.id, snapshot=False,
                note=f"reused from execution {original_execution}: its file contents are in that execution"))
        for child in (plan.children.get(original.id, ()) if plan else ()):
            self._reuse(child, copy.id, original_execution)
        return copy

    def restore_replay_snapshot(self, ctx: TaskContext, directory: Path) -> bool:
        """Replay: start a WorkingDirectory as the original's was before the replayed task."""
        plan = self.options.replay
        name = plan.snapshot_for(ctx.task.id, ctx.scope.value_path) if plan else None
        if plan is None or name is None:
            return False
        from engine.workdir.snapshots import ExecutionSnapshots, SnapshotError

        try:
            ExecutionSnapshots.open_existing(self.runtime.home.snapshots, plan.original_id).restore(name, directory)
        except (SnapshotError, OSError) as exc:
            raise TaskFailure(f"cannot restore the working directory of execution {plan.original_id}: "
                              f"{exc}") from None
        ctx.info(f"working directory restored as it was before '{plan.from_task_id}' "
                 f"in execution {plan.original_id}")
        return True

    def pause_task(self, ctx: TaskContext, timeout: timedelta | None) -> bool:
        self._resume.clear()
        self._set_task_state(ctx.task_run_id, State.PAUSED)
        self._set_execution_state(State.PAUSED)
        self.bus.publish(PausedAtTask(self.execution.id, ctx.task.id, ctx.task_run_id, "pause"))
        resumed = self._resume.wait(_bounded_seconds(timeout) if timeout else None)
        self._set_execution_state(State.RUNNING)
        self._set_task_state(ctx.task_run_id, State.RUNNING)
        return resumed and not self.cancelled

    # --- templates -----------------------------------------------------------------
    def _make_base_variables(self) -> dict[str, Any]:
        flow, execution = self.flow, self.execution
        envs: dict[str, str] = {}
        for prefix in self.runtime.config.env_prefixes:
            for key, value in self.runtime.environ.items():
                if key.startswith(prefix) and len(key) > len(prefix):
                    envs[key[len(prefix):].lower()] = value
        variables: dict[str, Any] = {
            "flow": {"id": flow.id, "namespace": flow.namespace, "revision": 1,
                     "description": flow.description},
            "execution": {"id": execution.id, "startDate": utcnow(),
                          "originalId": execution.original_id or execution.id},
            "inputs": execution.inputs,
            "vars": flow.variables,
            "labels": dict(execution.labels),
            "envs": envs,
            "outputs": self.outputs,
            "globals": {},
        }
        if execution.trigger is not None:
            variables["trigger"] = execution.trigger
        return variables

    def variables_for(self, ctx: TaskContext) -> dict[str, Any]:
        run = ctx.task_run
        scope = ctx.scope
        variables = dict(self._base_variables)
        variables["task"] = {"id": ctx.task.id, "type": ctx.task.type}
        variables["taskrun"] = {"id": run.id, "startDate": run.start_date, "attemptsCount": run.attempts,
                                "value": run.value, "parentId": run.parent_task_run_id}
        if scope.parents:
            variables["parent"] = scope.parents[0]
            variables["parents"] = list(scope.parents)
        if ctx.extra_variables:
            variables.update(ctx.extra_variables)
        return variables

    def render(self, ctx: TaskContext, value: Any, prop: str) -> Any:
        if isinstance(value, str) and "{{" not in value and "{%" not in value:
            return value
        if isinstance(value, int | float | bool) or value is None:
            return value
        from engine.template import TemplateError

        try:
            return self.runtime.templates.render_value(value, self.variables_for(ctx), self._services)
        except TemplateError as exc:
            raise TaskFailure(f"task '{ctx.task.id}' property '{prop}': {exc.message}") from None

    def readable_storage_path(self, uri: str) -> Path:
        """Storage files a template or task may read: this execution's (or its original's) only."""
        return self.runtime.storage.open_execution_file(uri, self.flow.namespace, self.flow.id,
                                                        (self.execution.id, self.execution.original_id))


def _mask_secret_inputs(masker: Any, flow: Flow, values: Mapping[str, Any]) -> None:
    """SECRET inputs are secrets too (Kestra hides them): their values join the masker."""
    for definition in flow.inputs:
        if definition.type != "SECRET":
            continue
        value: Any = values
        for part in definition.id.split("."):  # `a.b` nests as inputs.a.b
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            masker.add(value)


# Longer waits overflow the platform's time_t inside threading (P999999999D); ~30 years is forever here.
_MAX_WAIT_SECONDS = 1e9


def _bounded_seconds(duration: timedelta) -> float:
    return min(duration.total_seconds(), _MAX_WAIT_SECONDS)


class _RenderServices:
    """secret(), read(), fileSize(), fileExists() for templates of one execution."""

    def __init__(self, run: ExecutionRun) -> None:
        self._run = run

    def _error(self, message: str) -> Exception:
        from engine.template import TemplateError

        return TemplateError(message)

    def secret(self, name: str) -> str:
        from engine.store.secrets import SecretError

        try:
            return self._run.runtime.secrets.get(name)
        except SecretError as exc:
            raise self._error(str(exc)) from None

    def _path(self, path: str) -> Path:
        if path.startswith("kestra://"):
            try:
                return self._run.readable_storage_path(path)
            except StorageError as exc:
                raise self._error(str(exc)) from None
        from engine.store.namespace_files import namespace_file_path

        try:
            return namespace_file_path(self._run, path)
        except (OSError, ValueError) as exc:
            raise self._error(str(exc)) from None

    def read(self, path: str) -> str:
        try:
            return self._path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise self._error(f"cannot read '{path}': {exc.strerror}") from None

    def file_size(self, path: str) -> int:
        return self._path(path).stat().st_size

    def file_exists(self, path: str) -> bool:
        try:
            return self._path(path).is_file()
        except Exception:
            return False
