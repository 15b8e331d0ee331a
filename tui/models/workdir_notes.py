"""What the Files pane says besides the tree: why there is no directory, and which of the run's
files are no longer in it because ``outputFiles`` moved them into storage (as Kestra does).

Both answer a newcomer's surprise: "not kept" for a flow that never had a directory reads like
a lost one, and a directory without the CSV the task just wrote reads like a failed task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.models.run_model import ExecutionModel

__all__ = [
    "WORKING_DIRECTORY_TYPE", "MovedOutput", "missing_workdir_reason", "moved_outputs",
    "moved_outputs_text",
]

WORKING_DIRECTORY_TYPE = "io.kestra.plugin.core.flow.WorkingDirectory"
"""The task type (current Kestra name, first of its ``TYPES``) that shares a directory."""


@dataclass(frozen=True)
class MovedOutput:
    """A file a task run captured with ``outputFiles``: now in storage, shown in Outputs."""

    task_run_id: str
    task_id: str
    name: str


def _has_working_directory_task(model: ExecutionModel) -> bool:
    flow = model.flow
    if flow is None:
        return True  # unknown: do not claim the flow has none
    return any(WORKING_DIRECTORY_TYPE in getattr(task, "TYPES", ()) for task in flow.walk_tasks())


def missing_workdir_reason(model: ExecutionModel, *, is_latest: bool) -> str:
    """Why the execution's folder is not there. ``is_latest``: the flow's latest execution,
    whose folder Roost keeps, so a missing one means no task ever made one."""
    if model.live:
        return "no working directory yet"
    if is_latest and not model.workdirs and not _has_working_directory_task(model):
        return (f"{model.execution.flow_id} has no working directory: none of its tasks wrote "
                "files (script tasks and WorkingDirectory get one)")
    return ("no working directory kept for this execution (Roost keeps the last execution's "
            "per flow; --keep-workdir keeps all)")


def moved_outputs(model: ExecutionModel) -> tuple[MovedOutput, ...]:
    """Every file the execution's task runs captured with ``outputFiles``, in run order."""
    found: list[MovedOutput] = []
    for run in model.runs_in_order():
        found.extend(MovedOutput(run.id, f.task_id, f.name) for f in model.files_of(run.id))
    return tuple(found)


def moved_outputs_text(moved: tuple[MovedOutput, ...], *, limit: int = 4) -> str:
    """``outputs moved to storage: a.csv, b.json — enter: see them in Outputs (2)``."""
    names = [m.name for m in moved[:limit]]
    more = f" +{len(moved) - limit} more" if len(moved) > limit else ""
    return (f"outputs moved to storage: {', '.join(names)}{more} — enter: see them in "
            "Outputs (2)")
