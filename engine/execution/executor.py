"""The in-process executor: runs a flow's tasks, publishes events, obeys control commands.

Kestra splits this across an executor and workers talking through a queue; here one
execution is one thread that walks the task tree, and flowable tasks run their children
through their TaskContext. Parallel branches get threads. The run itself is split as
Dagster splits it: what the execution's state is (run_state), the loop (tree_walker),
one task (task_lifecycle), and the parts those use; `ExecutionRun` only wires them.
"""

from __future__ import annotations

import dataclasses
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.core.debug import DebugCommand, PauseInspection
from engine.core.events import EventBus
from engine.core.ids import new_id
from engine.core.records import Execution, TaskRun
from engine.core.states import State
from engine.execution.child_executions import ChildExecutions, parent_files
from engine.execution.debug_session import DebugSession
from engine.execution.flow_versions import FlowVersions
from engine.execution.mock_plan import with_mocks
from engine.execution.pause_gate import Debugger
from engine.execution.replay_copier import ReplayCopier
from engine.execution.run_state import RunState
from engine.execution.runtime import RunOptions, Runtime, TaskStandIn
from engine.execution.scope import Scope
from engine.execution.task_lifecycle import TaskLifecycle
from engine.execution.tree_walker import TreeWalker
from engine.execution.variables import RenderServices, RunVariables
from engine.execution.workdir_hooks import WorkdirHooks
from engine.execution.worker_pool import ElasticPool
from engine.flow.diff import FlowUpdate
from engine.flow.model import Flow
from engine.store.secrets import Masker


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

    def resume(self, inputs: Mapping[str, Any] | None = None) -> None:
        """Resume a paused execution; `inputs` answer the Pause task's `onResume`."""
        self._run.resume(inputs)

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

    def mock_paused(self, task_id: str, outputs: Mapping[str, Any], state: State = State.SUCCESS) -> bool:
        """Answer the pause before ``task_id`` with a mock: the task does not run, it ends in
        ``state`` with ``outputs`` (the workbench's answer for a task Roost cannot run), and so
        do its later runs in this execution. False when not paused before it."""
        pause = self.paused
        if pause is None or pause.task_id != task_id:
            return False
        self._run.lifecycle.add_stand_in(TaskStandIn(task_id=task_id, state=state,
                                                     outputs=dict(outputs), every_value=True))
        stepping = self._run.debugger.stepping
        return self._run.debugger.send(DebugCommand.NEXT if stepping else DebugCommand.CONTINUE)

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

    def run_here(self) -> None:
        """Run a prepared execution to its end in the calling thread (a subflow's child does)."""
        self._run.execute()


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
        from engine.flow.input_values import resolve_inputs

        execution_id = execution_id or new_id()

        def store_file(input_id: str, path: Path) -> str:
            uri = self.runtime.storage.input_file_uri(flow.namespace, flow.id, execution_id,
                                                      input_id, path.name)
            self.runtime.storage.put_file(uri, path)
            return uri

        ignored: list[str] = []   # values for undeclared inputs: dropped, told as WARN lines
        resolved = resolve_inputs(flow.inputs, dict(inputs or {}), store_file=store_file,
                                  on_unknown=ignored.append)
        _mask_secret_inputs(self.runtime.masker, flow, resolved)
        execution = Execution(
            id=execution_id, namespace=flow.namespace, flow_id=flow.id,
            inputs=resolved, labels={**flow.labels, **dict(labels or {})}, trigger=trigger,
            flow_path=flow.path, original_id=original_id, flow_source=flow.text or None,
        )
        options = with_mocks(options or RunOptions(), flow, self.runtime.config.mocks)
        run = ExecutionRun(self.runtime, self.bus, flow, execution, options)
        run.start_warnings.extend(ignored)
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
    """One execution while it runs: its parts, created in dependency order and wired together.

    Each part has one job (see its module). This class answers the handle's commands and
    is what every task context reaches the parts through (task_context.RunServices).
    """

    def __init__(self, runtime: Runtime, bus: EventBus, flow: Flow, execution: Execution,
                 options: RunOptions) -> None:
        self.runtime = runtime
        self.options = options
        self.start_warnings: list[str] = []   # logged as the execution starts (ignored inputs)
        # Templates read the real inputs (RunVariables); events, history and JSON the masked ones.
        masked_inputs: dict[str, Any] = runtime.masker.mask_value(execution.inputs)  # type: ignore[assignment]
        self.state = RunState(dataclasses.replace(execution, inputs=masked_inputs), bus, runtime.masker)
        self.versions = FlowVersions(flow)
        services = RenderServices(runtime, self.versions, (execution.id, execution.original_id),
                                  options.namespace_dirs, parent_files(execution.trigger))
        self.variables = RunVariables(runtime, flow, execution, self.state.outputs, services,
                                      self.state.task_states)
        self.workdirs = WorkdirHooks(runtime, self.state, flow.namespace, flow.id, options.keep_workdir)
        self.replay = (ReplayCopier(options.replay, self.state, runtime.home.snapshots)
                       if options.replay is not None else None)
        self.debugger = Debugger(options.breakpoints, options.step)
        self.debug = DebugSession(self.debugger, runtime, self.state, self.versions, self.variables,
                                  self.workdirs, self.cancel)
        lifecycle = TaskLifecycle(self, self.debug)  # its task contexts reach `walker`, set next
        self.lifecycle = lifecycle
        self.walker = TreeWalker(self.state, self.versions, lifecycle.run_task,
                                 ElasticPool(f"exec-{execution.id[:6]}"))
        # Subflow / ForEachItem children: one more executor, its own bus, the same history.
        self.children = ChildExecutions(runtime, self.state, self.versions, options,
                                        lambda: Executor(runtime))

    # --- what the handle reads -----------------------------------------------------
    @property
    def execution(self) -> Execution:
        return self.state.execution

    @property
    def finished(self) -> threading.Event:
        return self.state.finished

    def task_runs(self) -> list[TaskRun]:
        return self.state.task_runs()

    # --- control -----------------------------------------------------------------
    def cancel(self) -> None:
        self.state.request_cancel()
        self.debugger.wake()
        self.state.stop_running_tasks()
        self.children.cancel_all()

    def resume(self, inputs: Mapping[str, Any] | None = None) -> None:
        self.state.resume(inputs)

    @property
    def cancelled(self) -> bool:
        return self.state.cancelled

    # --- running -----------------------------------------------------------------
    START_RECORD_SECONDS = 2.0

    def _record_start(self) -> None:
        """Wait (a commit, well under a millisecond) until the history holds the execution.

        Later events wait out the writer's batch window, and that is safe as long as Python
        runs: a kill is recovered from what was written. But a call that holds the GIL and never
        returns (a jq loop in a template) stops the writer too, and the forced stop that ends
        Roost then would leave no trace of the execution at all; written before its first task,
        it is there, and the next start marks it KILLED. A child execution (Subflow,
        ForEachItem batch) does not wait: its caller is recorded already, and a thousand-batch
        ForEachItem would otherwise pay a commit per batch.
        """
        history = self.runtime.history
        if history is not None and not self.options.call_chain:
            history.flush(self.START_RECORD_SECONDS)

    def execute(self) -> None:
        """Run the whole flow; never raises (a bug becomes a FAILED execution with a log line)."""
        state = self.state
        self.runtime.live_executions.add(self)   # a Resume task of another run may reach it
        try:
            state.set_execution_state(State.CREATED)
            self.variables.set_start_date(state.execution.start_date)
            state.set_execution_state(State.RUNNING)
            self._record_start()
            flow = self.versions.current
            for warning in (*flow.warnings, *self.start_warnings):
                state.log(None, None, "WARN", warning)
            end = self.walker.run_block(flow.tasks, flow.errors, flow.finally_, Scope())
            outputs: dict[str, Any] = {}
            flow = self.versions.current   # the newest version's outputs, after a hot reload
            if state.exit_state is not None:   # an Exit task chose how the execution ends
                end = state.exit_state
            if state.cancelled:
                end = State.KILLED
            elif end in (State.SUCCESS, State.WARNING) and flow.outputs:
                outputs, failed = self.variables.render_flow_outputs(flow, state.log)
                if failed:  # Kestra keeps none of them (FlowOutputTest: outputs null)
                    end, outputs = State.FAILED, {}
            masked = self.runtime.masker.mask_value(outputs)
            state.set_execution_state(end, outputs=masked)
        except Exception as exc:  # a Roost bug must still end the execution consistently
            state.log(None, None, "ERROR", f"internal error: {exc!r}")
            state.log(None, None, "TRACE", traceback.format_exc())
            state.set_execution_state(State.FAILED, error=repr(exc))
        finally:
            self.runtime.live_executions.remove(self.execution.id)
            self.workdirs.finish()
            state.finished.set()
            self.children.wait_for_all()   # those started with `wait: false` end before this thread

    # --- debugging -----------------------------------------------------------------
    def update_flow(self, flow: Flow) -> FlowUpdate:
        """Apply a new version of the flow to the tasks not run yet; says what changed."""
        self.versions.check_same_flow(flow)
        with self.state.lock:
            self.variables.set_flow_variables(flow.variables)
            update = self.versions.switch_to(flow, self.state.started_task_ids())
        self.state.log(None, None, "INFO", update.describe())
        self.debug.refresh_after_edit()
        return update

    def evaluate(self, expression: str) -> Any:
        """Evaluate against the paused task's variables, else the execution's; masked result."""
        return self.debug.evaluate(expression)


def _mask_secret_inputs(masker: Masker, flow: Flow, values: Mapping[str, Any]) -> None:
    """SECRET inputs are secrets too (Kestra hides them): their values join the masker."""
    for definition in flow.inputs:
        if definition.type != "SECRET":
            continue
        value: Any = values
        for part in definition.id.split("."):  # `a.b` nests as inputs.a.b
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            masker.add(value)


