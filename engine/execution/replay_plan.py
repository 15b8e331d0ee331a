"""What a replay reuses, restores and runs again: the plan handed to the executor.

Apart from replay.py (which works the plan out from the history and the flow file) so
that the run options can name it without importing the history and the flow loader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.core.events import TaskFilesChanged
from engine.core.records import TaskRun

TaskKey = tuple[str, tuple[str, ...]]
"""A task run's place in a flow: its task id and its ForEach value path."""


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay reuses, restores and runs again (handed to the executor in RunOptions)."""

    original_id: str
    from_task_id: str
    reused: Mapping[TaskKey, TaskRun] = field(default_factory=dict)
    children: Mapping[str, tuple[TaskRun, ...]] = field(default_factory=dict)
    restore: Mapping[TaskKey, str] = field(default_factory=dict)
    """Working-directory tasks whose new directory starts as a snapshot: key → snapshot name."""
    files: Mapping[str, TaskFilesChanged] = field(default_factory=dict)
    """What the reused task runs changed in their directory (TaskFilesChanged by original run id)."""

    def reused_run(self, task_id: str, value_path: tuple[str, ...]) -> TaskRun | None:
        return self.reused.get((task_id, value_path))

    def snapshot_for(self, task_id: str, value_path: tuple[str, ...]) -> str | None:
        return self.restore.get((task_id, value_path))
