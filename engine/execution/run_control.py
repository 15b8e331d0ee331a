"""The executor's side of `engine.tasks.history_access.ExecutionControl`: Labels, Exit, Resume.

Kestra's Labels and Exit are "execution updatable" tasks: the executor applies what they
return to the execution. Here they ask this object, which changes the run's state (and the
variables later tasks render with) directly; Resume reaches another execution of this
process through the runtime's `LiveExecutions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.execution.run_state import RunState
from engine.execution.runtime import Runtime
from engine.execution.variables import RunVariables


class ControlledRun(Protocol):
    """The parts of an execution its control reaches (task_context.RunServices has them)."""

    runtime: Runtime
    state: RunState
    variables: RunVariables


class RunControl:
    """Changes one task may make to its execution, or to another running in this process."""

    def __init__(self, run: ControlledRun, task_id: str) -> None:
        self._run = run
        self._task_id = task_id

    def update_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """Merge labels into the execution: history, the Execution record, and `labels.x`."""
        merged = self._run.state.merge_labels(labels)
        self._run.variables.set_labels(merged)
        return merged

    def exit_execution(self, state: State) -> None:
        """End the execution in `state`; KILLED also stops the tasks running now, as Kestra's kill."""
        run_state = self._run.state
        if state is State.KILLED:
            run_state.request_exit(state)
            run_state.request_cancel()
            run_state.stop_running_tasks()
            return
        run_state.request_exit(state)

    def resume_execution(self, execution_id: str, inputs: Mapping[str, Any] | None, *,
                         namespace: str | None = None, flow_id: str | None = None) -> None:
        """Resume a paused execution of this process; a clear failure for anything else."""
        target = self._run.runtime.live_executions.get(execution_id)
        if target is None:
            history = self._run.runtime.history
            if history is not None:
                history.flush()   # an execution that just ended may still be in the writer's queue
            known = history.get_execution(execution_id) if history is not None else None
            if known is None or known.id != execution_id:
                raise TaskFailure(f"task '{self._task_id}': no execution found for execution id {execution_id}")
            raise TaskFailure(
                f"task '{self._task_id}': execution {execution_id} ({known.namespace}.{known.flow_id}) is "
                f"{known.state.value} and not running in this roost process; Roost resumes only "
                "executions paused in the process that runs them (a Resume task of a flow running "
                "in the same workbench or command)")
        execution = target.execution
        if namespace is not None and (execution.namespace, execution.flow_id) != (namespace, flow_id):
            raise TaskFailure(f"task '{self._task_id}': execution {execution_id} is an execution of "
                              f"{execution.namespace}.{execution.flow_id}, not of {namespace}.{flow_id}")
        current = execution.state
        if current is not State.PAUSED:
            raise TaskFailure(f"task '{self._task_id}': execution '{execution_id}' is not paused "
                              f"(it is {current.value}), can't resume it")
        target.resume(inputs)
