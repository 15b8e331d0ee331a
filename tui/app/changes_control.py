"""The Changes pane in the workbench: what the task selected in Tasks changed in its working
directory, for the shown execution (live: it follows the engine's ``TaskFilesChanged``).

The pane follows the selection; new events refresh it while it is the visible tab, and showing
the tab catches up. The listing comes from the execution model, previews from the snapshots
under ROOST_HOME.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.widgets import TabbedContent

from tui.widgets.changes_pane import ChangesPane
from tui.app.workbench import WorkbenchCore

if TYPE_CHECKING:
    from engine.core.events import TaskFilesChanged
    from tui.models.run_model import ExecutionModel
    from tui.widgets.task_tree import TreeItem

__all__ = ["ChangesControlMixin"]


class ChangesControlMixin(WorkbenchCore):
    """Keeps the Changes pane on the selection (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    @on(TabbedContent.TabActivated)
    def _changes_tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane is not None and event.pane.id == "changes":
            self._refresh_changes()

    def _refresh_changes(self) -> None:
        pane = self.main.query_one(ChangesPane)
        model, session = self.shown, self.session
        if model is None or session is None:
            pane.show_message("No execution yet: press r to run the flow.")
            return
        item = self.selected_item
        scope = _scope(model, item)
        if item is not None and item.kind == "task" and item.task_run_id is None:
            pane.show_message(f"{item.task_id} did not run in this execution.")
            return
        records = self._records_under_selection(model)
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

    def _records_under_selection(self, model: ExecutionModel) -> list[TaskFilesChanged]:
        """The changes of the selected run and its descendants (all runs: the whole execution),
        in run order."""
        wanted = self._log_filter()
        ids = None if wanted is None else {wanted} if isinstance(wanted, str) else set(wanted)
        files = model.task_files
        return [files[run.id] for run in model.runs_in_order()
                if run.id in files and (ids is None or run.id in ids)]


def _scope(model: ExecutionModel, item: TreeItem | None) -> str:
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
