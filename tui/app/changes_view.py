"""The Changes pane for the selection: what the task selected in Tasks (or every task, for the
whole execution) changed in its working directory, live as ``TaskFilesChanged`` events arrive.

:class:`~tui.app.selection.Selection` calls it when the selection changes, when new events
touch the shown execution while the tab is visible, and when the tab is shown (catching up).
The listing comes from the execution model; previews from the snapshots under ROOST_HOME.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.widgets.changes_pane import ChangesPane

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.workspace import Workspace
    from tui.engine_port import TaskFilesChanged
    from tui.models.log_filter import TaskRunFilter
    from tui.models.run_model import ExecutionModel
    from tui.widgets.task_tree import TreeItem

__all__ = ["ChangesView"]


class ChangesView:
    """Fills the Changes pane; holds no state of its own."""

    def __init__(self, host: AppHost, workspace: Workspace) -> None:
        self._host = host
        self._workspace = workspace

    def show(self, model: ExecutionModel | None, item: TreeItem | None,
             task_runs: TaskRunFilter) -> None:
        """``task_runs``: the runs under the selection (None: all of them), as Logs shows."""
        pane = self._host.main.query_one(ChangesPane)
        session = self._workspace.session
        if model is None or session is None:
            pane.show_message("No execution yet: press r to run the flow.")
            return
        scope = _scope(model, item)
        if item is not None and item.kind == "task" and item.task_run_id is None:
            pane.show_message(f"{item.task_id} did not run in this execution.")
            return
        records = _records_of(model, task_runs)
        if not records:
            pane.show_message(_nothing_recorded(model, scope))
            return
        single = (item is not None and item.kind == "task" and len(records) == 1
                  and records[0].task_run_id == item.task_run_id)
        names = {}
        for record in records:
            run = model.task_run(record.task_run_id)
            value = f" [{run.value}]" if run is not None and run.value is not None else ""
            names[record.task_run_id] = record.task_id + value
        pane.show(records, scope, session.home.snapshots, grouped=not single, names=names)


def _records_of(model: ExecutionModel, task_runs: TaskRunFilter) -> list[TaskFilesChanged]:
    """The changes of ``task_runs`` (all runs: the whole execution), in run order."""
    ids = None if task_runs is None else {task_runs} if isinstance(task_runs, str) else set(task_runs)
    files = model.task_files
    return [files[run.id] for run in model.runs_in_order()
            if run.id in files and (ids is None or run.id in ids)]


def _scope(model: ExecutionModel, item: TreeItem | None) -> str:
    """What the selection covers, as the Changes pane names it: a task run, one iteration of a
    ForEach, or the whole execution."""
    if item is not None and item.kind == "task" and item.task_id:
        run = model.task_run(item.task_run_id)
        value = f" [{run.value}]" if run is not None and run.value is not None else ""
        return item.task_id + value
    if item is not None and item.kind == "iter":
        return f"{item.key[1]} [{item.key[-1][-1]}]"  # type: ignore[index]
    return f"execution {model.id[:8]}"


def _nothing_recorded(model: ExecutionModel, scope: str) -> str:
    if model.live:
        return (f"{scope}: no file changes recorded yet. Tasks inside a WorkingDirectory show "
                "theirs here as each one ends.")
    return (f"{scope}: no file changes recorded. Roost records what each task inside a "
            "WorkingDirectory adds, modifies and deletes there.")
