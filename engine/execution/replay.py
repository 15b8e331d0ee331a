"""Replay from a task: a new execution that reuses what ran before the chosen task.

Kestra's replay reruns a WorkingDirectory as a whole, because the directory is gone.
Roost keeps a snapshot of the directory before every task in it, so a replay from a
task in the middle restores the directory as that task found it and runs from there.
The flow is read again from its file: fixing the YAML and replaying is the point.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine.core.records import EPOCH, Execution, TaskRun
from engine.core.states import State
from engine.execution.replay_plan import ReplayPlan, TaskKey
from engine.flow.model import Flow

if TYPE_CHECKING:
    from engine.execution.runtime import Runtime
    from engine.workdir.snapshots import ExecutionSnapshots

_REUSABLE = (State.SUCCESS, State.WARNING, State.SKIPPED)


class ReplayError(Exception):
    """A replay that cannot start; the message says why and what to do instead."""

    def __init__(self, message: str, *, full_rerun_possible: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.full_rerun_possible = full_rerun_possible


def plan_replay(execution: Execution, task_runs: list[TaskRun], from_task_id: str, flow: Flow,
                snapshots: ExecutionSnapshots | None) -> ReplayPlan:
    """Work out a replay of ``execution`` from its first run of ``from_task_id``.

    ``snapshots`` is the original execution's :class:`~engine.workdir.snapshots.ExecutionSnapshots`
    (None when it has none). Raises ReplayError naming the problem.
    """
    if not execution.state.is_terminal:
        raise ReplayError(f"execution {execution.id} is still {execution.state.value}: "
                          "replay it once it has finished")
    if flow.find_task(from_task_id) is None:
        known = ", ".join(t.id for t in flow.walk_tasks())
        raise ReplayError(f"task '{from_task_id}' is not in {flow.path or 'the flow'} any more "
                          f"(its tasks: {known})")
    targets = sorted((tr for tr in task_runs if tr.task_id == from_task_id),
                     key=lambda tr: tr.start_date or EPOCH)
    if not targets:
        ran = ", ".join(dict.fromkeys(tr.task_id for tr in task_runs)) or "none"
        raise ReplayError(f"task '{from_task_id}' did not run in execution {execution.id} "
                          f"(tasks that ran: {ran}); replay from one of those, or run the flow again",
                          full_rerun_possible=True)
    target = targets[0]
    by_id = {tr.id: tr for tr in task_runs}
    ancestors: list[TaskRun] = []
    parent = by_id.get(target.parent_task_run_id or "")
    while parent is not None:
        ancestors.append(parent)
        parent = by_id.get(parent.parent_task_run_id or "")
    ancestor_ids = {a.id for a in ancestors}
    start = target.start_date or EPOCH

    reused: dict[TaskKey, TaskRun] = {}
    for tr in task_runs:
        top = tr.parent_task_run_id is None or tr.parent_task_run_id in ancestor_ids
        if (top and tr.id not in ancestor_ids and tr.id != target.id and tr.state in _REUSABLE
                and tr.end_date is not None and tr.end_date <= start):
            reused.setdefault((tr.task_id, tuple(tr.value_path)), tr)
    children: dict[str, list[TaskRun]] = defaultdict(list)
    for tr in task_runs:
        if tr.parent_task_run_id:
            children[tr.parent_task_run_id].append(tr)

    restore: dict[TaskKey, str] = {}
    directory_owner = _working_directory_owner(target, ancestors, flow)
    if directory_owner is not None:
        if snapshots is None or not snapshots.has(target.id):
            reason = snapshots.missing_reason(target.id) if snapshots is not None else \
                "the execution kept no snapshots (they are pruned after roost.toml's [replay] keepExecutions)"
            raise ReplayError(f"no snapshot of the working directory of '{directory_owner.task_id}' "
                              f"before '{from_task_id}': {reason}. Run the whole flow again instead",
                              full_rerun_possible=True)
        restore[(directory_owner.task_id, tuple(directory_owner.value_path))] = target.id
    return ReplayPlan(
        original_id=execution.id, from_task_id=from_task_id, reused=reused,
        children={k: tuple(sorted(v, key=lambda tr: tr.start_date or EPOCH)) for k, v in children.items()},
        restore=restore,
    )


def _working_directory_owner(target: TaskRun, ancestors: list[TaskRun], flow: Flow) -> TaskRun | None:
    """The WorkingDirectory task run the target ran in, if it ran in one."""
    if not target.working_dir or not ancestors:
        return None
    for ancestor in ancestors:
        task = flow.find_task(ancestor.task_id)
        if task is not None and task.type.endswith(".WorkingDirectory"):
            return ancestor
    return None



@dataclass(frozen=True)
class PreparedReplay:
    """A replay ready to hand to ``Executor.prepare``: the flow (read again), inputs, plan."""

    flow: Flow
    inputs: dict[str, Any]
    plan: ReplayPlan


def prepare_replay(runtime: Runtime, execution_id: str, from_task_id: str) -> PreparedReplay:
    """Read the execution from the history and its flow from its file; plan the replay.

    Raises ReplayError (unknown execution, missing snapshot, masked SECRET input...) and
    InvalidFlowError (the flow file no longer loads: fix it first).
    """
    from pathlib import Path

    from engine.flow.loader import load_flow
    from engine.workdir.snapshots import ExecutionSnapshots

    history = runtime.history
    execution = history.get_execution(execution_id) if history is not None else None
    if history is None or execution is None:
        raise ReplayError(f"no execution '{execution_id}' in the history (see `roost executions`)")
    if not execution.flow_path or not Path(execution.flow_path).is_file():
        raise ReplayError(f"the flow file of execution {execution_id} ({execution.flow_path or 'unknown'}) "
                          "is gone: replay needs it")
    flow = load_flow(Path(execution.flow_path), runtime.config.plugin_defaults)
    secret_inputs = [d.id for d in flow.inputs if d.type == "SECRET"]
    if secret_inputs:
        raise ReplayError(f"input(s) {', '.join(secret_inputs)} are SECRET: the history keeps them "
                          "masked, so a replay cannot reuse them. Run the flow again with its inputs",
                          full_rerun_possible=True)
    folder = runtime.home.snapshots / execution_id
    snapshots = ExecutionSnapshots.open_existing(runtime.home.snapshots, execution_id) if folder.is_dir() else None
    plan = plan_replay(execution, history.task_runs(execution_id), from_task_id, flow, snapshots)
    plan = replace(plan, files=history.task_files(execution_id))
    return PreparedReplay(flow=flow, inputs=dict(execution.inputs), plan=plan)


__all__ = ["PreparedReplay", "ReplayError", "ReplayPlan", "TaskKey", "plan_replay", "prepare_replay"]
