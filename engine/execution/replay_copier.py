"""Replay from a task, while it runs: copy what ran before, restore the directory.

A task that ran before the replayed one is not run again: its task run (and its
children's) is copied into the new execution with its outputs, and what it changed in
its working directory is shown as then. The WorkingDirectory the replayed task ran in
starts as the original's snapshot from just before that task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from engine.core.errors import TaskFailure
from engine.core.ids import new_id
from engine.core.records import TaskRun
from engine.execution.replay_plan import ReplayPlan
from engine.execution.run_state import RunState


class ReplayCopier:
    """The replay side of one execution that replays another (made only for a replay)."""

    def __init__(self, plan: ReplayPlan, state: RunState, snapshots_root: Path) -> None:
        self.plan = plan
        self._state = state
        self._snapshots_root = snapshots_root

    def copy_if_reused(self, task_id: str, value_path: tuple[str, ...], parent_id: str | None) -> TaskRun | None:
        """The copied task run when this task ran before the replayed one; None: run it."""
        original = self.plan.reused_run(task_id, value_path)
        if original is None:
            return None
        return self._reuse(original, parent_id)

    def _reuse(self, original: TaskRun, parent_id: str | None) -> TaskRun:
        """A task that ran before the replayed one is copied, not run (children too)."""
        plan, state = self.plan, self._state
        # Its running time, not the time it once sat at a breakpoint: the copy did not pause.
        copy = state.put_task_run(dataclasses.replace(
            original.without_pauses(), id=new_id(), execution_id=state.execution.id,
            parent_task_run_id=parent_id))
        state.record_outputs(original.task_id, tuple(original.value_path), dict(original.outputs))
        state.log(copy.id, copy.task_id, "INFO",
                  f"reused from execution {plan.original_id} ({original.state.value}); not run again")
        recorded = plan.files.get(original.id)
        if recorded is not None:  # what it changed then; the file contents stay in the original's snapshots
            state.bus.publish(dataclasses.replace(
                recorded, execution_id=state.execution.id, task_run_id=copy.id, snapshot=False,
                note=f"reused from execution {plan.original_id}: its file contents are in that execution"))
        for child in plan.children.get(original.id, ()):
            self._reuse(child, copy.id)
        return copy

    def restore_snapshot(self, task_id: str, value_path: tuple[str, ...], directory: Path,
                         info: Callable[[str], None]) -> bool:
        """Start a WorkingDirectory as the original's was before the replayed task (True if done)."""
        plan = self.plan
        name = plan.snapshot_for(task_id, value_path)
        if name is None:
            return False
        from engine.workdir.snapshots import ExecutionSnapshots, SnapshotError

        try:
            ExecutionSnapshots.open_existing(self._snapshots_root, plan.original_id).restore(name, directory)
        except (SnapshotError, OSError) as exc:
            raise TaskFailure(f"cannot restore the working directory of execution {plan.original_id}: "
                              f"{exc}") from None
        info(f"working directory restored as it was before '{plan.from_task_id}' "
             f"in execution {plan.original_id}")
        return True
