"""What the panes show: the selected flow, the task selected in its tree, the execution shown
(live or from history), and each flow's latest execution (the flow list's state symbols).

Every change of selection goes through :class:`Selection`, which then repaints the panes that
depend on it: Tasks, Source and the banner, Logs (store and filter), Outputs, Files, Changes,
Debug, the status bar and the right-hand pane's title. Other parts change the selection
(a run starts, an execution opens from history) and never fill those panes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.models.log_store import LogStore
from tui.models.workdir_notes import missing_workdir_reason, moved_outputs
from tui.screens.main import PANES, DetailTabs
from tui.widgets.banner import ErrorBanner
from tui.widgets.files_pane import ChangeWindow, FilesPane
from tui.widgets.flow_list import FlowList
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.source_pane import SourcePane
from tui.widgets.task_tree import TaskTree

if TYPE_CHECKING:
    from tui.app.changes_view import ChangesView
    from tui.app.debug_view import DebugView
    from tui.app.host import AppHost
    from tui.app.status_line import StatusLine
    from tui.app.workspace import Workspace
    from tui.engine_port import PauseInspection
    from tui.models.flow_catalog import FlowEntry
    from tui.models.log_filter import TaskRunFilter
    from tui.models.run_model import ExecutionModel
    from tui.widgets.task_tree import TreeItem

__all__ = ["Selection", "task_runs_under"]

HIDES_A_RUN = ("source", "history")
"""Right-hand tabs that show nothing of a run: a run started from them brings Logs forward."""


class Selection:
    """The flow, task and execution the panes show; repaints them when any of those changes."""

    def __init__(self, host: AppHost, workspace: Workspace, *, status: StatusLine,
                 changes: ChangesView, debug: DebugView,
                 spinner_frame: Callable[[], int]) -> None:
        self._host = host
        self._workspace = workspace
        self._status = status
        self._changes = changes
        self._debug = debug
        self._spinner_frame = spinner_frame
        self.selected_path: Path | None = None
        self.selected_item: TreeItem | None = None
        """The node selected in Tasks (None: the whole execution)."""
        self.shown: ExecutionModel | None = None
        self.latest: dict[str, str] = {}
        """Flow key -> the id of its latest execution (what selecting the flow shows)."""
        self._shown_tree_signature: object = None
        self._empty_store = LogStore()  # what Logs shows with no execution

    def close(self) -> None:
        self._empty_store.close()

    # -- what is selected ----------------------------------------------------------------------

    @property
    def selected_entry(self) -> FlowEntry | None:
        catalog = self._workspace.catalog
        if catalog is None or self.selected_path is None:
            return None
        return catalog.get(self.selected_path)

    @property
    def tree_flow_key(self) -> str | None:
        """The flow Tasks shows: the selected one, else the shown execution's."""
        entry = self.selected_entry
        if entry is not None:
            return entry.key
        return self.shown.flow_key if self.shown is not None else None

    @property
    def shown_pause(self) -> PauseInspection | None:
        """The pause before a task the screen shows (folded from events) for the shown
        execution; the engine's own may already have moved on."""
        model = self.shown
        if model is None or model.paused is None:
            return None
        return model.paused.inspection

    def breakpoint_marks(self) -> frozenset[str]:
        key = self.tree_flow_key
        return self._workspace.breakpoints.of(key) if key is not None else frozenset()

    # -- changing the selection ----------------------------------------------------------------

    def show_flows(self, entries: list[FlowEntry]) -> None:
        """Fill the flow list (at start and after files come and go), states included."""
        self._host.main.query_one(FlowList).set_entries(entries, self.flow_states())

    def show_opened(self, entries: list[FlowEntry]) -> None:
        """The flows found at start, and in the banner why there are none or nothing can run."""
        self._host.main.query_one(LogView).set_store(self._empty_store)
        self.show_flows(entries)
        banner = self._host.main.query_one(ErrorBanner)
        path = self._workspace.path
        if not entries:
            where = path if path.exists() else f"{path} (does not exist)"
            banner.show_message(f"no flows (*.yml, *.yaml) under {where}")
        if self._workspace.startup_error:
            banner.show_message(self._workspace.startup_error)

    def select_flow(self, path: Path) -> None:
        """Show a flow: its tree merged with its latest execution, its source and errors."""
        changed = path != self.selected_path
        self.selected_path = path
        entry = self.selected_entry
        session = self._workspace.session
        model = None
        if entry is not None and session is not None:
            execution_id = self.latest.get(entry.key)
            model = session.models.get(execution_id) if execution_id else None
        if changed:
            self.selected_item = None
        self.show_execution(model)
        self.refresh_flow_panes()

    def point_at_flow(self, entry: FlowEntry) -> None:
        """Select ``entry`` in the flow list as if the user had, without re-showing anything."""
        self.selected_path = entry.path
        self._host.main.query_one(FlowList).select_path(entry.path)
        self.refresh_flow_panes()

    def show_execution(self, model: ExecutionModel | None) -> None:
        """Make ``model`` the execution every pane shows."""
        main = self._host.main
        self.shown = model
        main.query_one(LogView).set_store(model.logs if model is not None else self._empty_store)
        self.refresh_tree()
        self.apply_item_selection()
        main.query_one(OutputsPane).show(model)
        self.refresh_status()
        self.refresh_title()
        self.refresh_debug()

    def show_new_execution(self, model: ExecutionModel, *, select_its_flow: bool = False) -> None:
        """A run just started: it becomes its flow's latest, shown (Logs brought forward from a
        tab that shows nothing of it) if its flow is the selected one. ``select_its_flow``
        (a replay): select its flow first and show it in any case."""
        self.latest[model.flow_key] = model.id
        if select_its_flow:
            entry = self._workspace.entry_for_key(model.flow_key)
            if entry is not None and entry.path != self.selected_path:
                self.point_at_flow(entry)
        entry = self.selected_entry
        if select_its_flow or (entry is not None and entry.key == model.flow_key):
            self.show_execution(model)
            detail = self._host.main.query_one(DetailTabs)
            if detail.active in HIDES_A_RUN:
                detail.active = "logs"
        self.refresh_flow_states()

    def bring_logs_to_first_error(self) -> None:
        """The shown execution failed: Logs comes forward (whatever pane was open) with the
        cursor on its first ERROR line, focused if the focus was on the right-hand panes.
        Not while the Debug pane shows a pause: the user is stepping there."""
        if self.shown_pause is not None:
            return
        main = self._host.main
        detail = main.query_one(DetailTabs)
        log_view = main.query_one(LogView)
        focus_was_right = main.current_pane() in dict(PANES)
        if detail.active != "logs":
            detail.active = "logs"
        log_view.sync()  # every line of the run, before looking for the first error
        log_view.go_to_first_at_level("ERROR")
        if focus_was_right:
            log_view.focus()

    def select_item(self, item: TreeItem, *, shown_only: bool = False) -> None:
        """The cursor moved in Tasks: the right-hand panes follow, Source marks its line.
        ``shown_only``: Files and Changes only if shown (a tab catches up when it is shown)."""
        self.selected_item = item
        self.apply_item_selection(shown_only=shown_only)
        entry = self.selected_entry
        if entry is not None:
            self._host.main.query_one(SourcePane).show(entry.text, entry.errors,
                                                       str(entry.path), item.line)

    def select_task_node(self, model: ExecutionModel, task_id: str, task_run_id: str) -> None:
        """Put the tree cursor on a task run (the paused one) and select it."""
        run = model.task_run(task_run_id)
        value_path = tuple(run.value_path) if run is not None else ()
        tree = self._host.main.query_one(TaskTree)
        node = tree.node_for(("task", task_id, value_path))
        if node is None or node.data is None:
            return
        if tree.cursor_node is not node:
            tree.move_cursor(node)
        self.selected_item = node.data
        self.apply_item_selection()

    def select_task(self, task_id: str) -> bool:
        """Put the tree cursor on a task by its id (a failed assertion's); False when the tree
        has no such task."""
        tree = self._host.main.query_one(TaskTree)
        node = tree.node_for_task(task_id)
        if node is None or node.data is None:
            return False
        if tree.cursor_node is not node:
            tree.reveal(node)
        self.selected_item = node.data
        self.apply_item_selection()
        return True

    # -- each flow's latest execution ----------------------------------------------------------

    def flow_states(self) -> dict[str, str]:
        """Flow key -> the state of its latest execution (the symbols in the flow list)."""
        states: dict[str, str] = {}
        session = self._workspace.session
        if session is None:
            return states
        for key, execution_id in self.latest.items():
            model = session.models.get(execution_id)
            if model is not None:
                states[key] = model.execution.state.value
        return states

    def refresh_flow_states(self) -> None:
        self._host.main.query_one(FlowList).set_states(self.flow_states())

    # -- the panes -----------------------------------------------------------------------------

    def refresh_flow_panes(self) -> None:
        """Source and the error banner for the selected flow."""
        entry = self.selected_entry
        main = self._host.main
        banner = main.query_one(ErrorBanner)
        source = main.query_one(SourcePane)
        catalog = self._workspace.catalog
        if entry is None:
            source.show("", [])
            if catalog is not None and catalog.entries:
                banner.clear()
            return
        if entry.errors:
            banner.show_errors(entry.errors, stale=entry.stale)
        elif not self._workspace.startup_error:
            banner.clear()
        marked = self.selected_item.line if self.selected_item is not None else None
        source.show(entry.text, entry.errors, str(entry.path), marked,
                    scroll_to_error=bool(entry.errors))

    def refresh_tree(self, *, force: bool = False) -> None:
        """Tasks: the flow merged with the shown execution's runs, breakpoints marked; redrawn
        while the execution runs (the spinner) or when something it shows changed."""
        entry = self.selected_entry
        tree = self._host.main.query_one(TaskTree)
        marks = self.breakpoint_marks()
        if tree.breakpoints != marks:
            tree.breakpoints = marks
            force = True
        model = self.shown
        flow = entry.flow if entry is not None else None
        if model is not None and flow is None:
            flow = model.flow
        signature = (id(flow), model.id if model is not None else None,
                     model.tree_version if model is not None else 0)
        running = model is not None and model.live
        if not force and not running and signature == self._shown_tree_signature:
            return
        self._shown_tree_signature = signature
        runs = model.runs_in_order() if model is not None else []
        tree.show(flow, runs, model.execution if model is not None else None,
                  frame=self._spinner_frame(), stale=bool(entry and entry.stale))

    def apply_item_selection(self, *, shown_only: bool = False) -> None:
        """Point Logs, Outputs, Files and Changes at the selected task run (or the whole
        execution); hidden, Files and Changes cost a layout of the screen each."""
        item = self.selected_item
        self.apply_log_filter()
        if item is not None and item.task_run_id:
            self._host.main.query_one(OutputsPane).select_task_run(item.task_run_id)
        active = self._host.main.query_one(DetailTabs).active if shown_only else None
        if active in (None, "files"):
            self.refresh_files()
        if active in (None, "changes"):
            self.refresh_changes()
        self.refresh_title()

    def task_run_filter(self) -> TaskRunFilter:
        """The task runs under the selection (what Logs and Changes show), None for all."""
        item, model = self.selected_item, self.shown
        if item is None or model is None:
            return None
        return task_runs_under(model, item)

    def apply_log_filter(self) -> None:
        log_view = self._host.main.query_one(LogView)
        wanted = self.task_run_filter()
        if wanted != log_view.task_run_filter:
            log_view.set_filter(wanted, log_view.min_level)

    def refresh_files(self) -> None:
        """Files: the selected task run's working directory (while paused before it, the one
        it is about to run in), inside the execution's folder when it is there."""
        files = self._host.main.query_one(FilesPane)
        model = self.shown
        session = self._workspace.session
        if model is None or session is None:
            files.show(None, "no execution yet: press r to run the flow")
            return
        item = self.selected_item
        pause = self.shown_pause
        if (pause is not None and pause.working_dir and item is not None
                and item.task_run_id == pause.task_run_id and Path(pause.working_dir).is_dir()):
            files.show(Path(pause.working_dir))
            return
        run = model.task_run(item.task_run_id) if item is not None else None
        folder = session.workdir_of(model, run) if run is not None else None
        window = None
        if folder is not None and run is not None and run.start_date is not None:
            end = run.end_date.timestamp() if run.end_date else None
            window = ChangeWindow(folder, run.start_date.timestamp(), end, run.task_id)
        root = session.execution_workdir(model)
        if folder is not None and folder.is_dir():
            try:
                folder.relative_to(root)
            except ValueError:
                root = folder  # a shared directory outside the execution's folder
        if not root.is_dir():
            is_latest = self.latest.get(model.flow_key) == model.id
            files.show(None, missing_workdir_reason(model, is_latest=is_latest))
            return
        files.show(root, "", window, moved_outputs(model) if not model.live else ())

    def refresh_changes(self) -> None:
        self._changes.show(self.shown, self.selected_item, self.task_run_filter())

    def refresh_debug(self) -> None:
        """The Debug pane (and the pause keys) follow the shown execution's pause."""
        pause = self.shown_pause
        if pause is not None:
            self._debug.show_pause(pause)
            return
        entry = self.selected_entry
        self._debug.show_idle(entry.flow_id if entry is not None else "", self.breakpoint_marks())

    def refresh_status(self) -> None:
        self._status.show(self.shown)

    def refresh_title(self, *, from_tick: bool = False) -> None:
        if not self._host.screen_stack:  # a log view's last message may come as the app closes
            return
        self._status.show_detail_title(self.shown, self.selected_item, self.selected_entry,
                                       from_tick=from_tick)


def task_runs_under(model: ExecutionModel, item: TreeItem) -> TaskRunFilter:
    """The task runs a tree node covers: a task's run and its descendants (a WorkingDirectory's
    children, a ForEach's iterations), one iteration's runs, or None (the flow, a branch: all)."""
    if item.kind in ("flow", "branch"):
        return None
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for run in model.task_runs.values():
        if run.parent_task_run_id is not None:
            children.setdefault(run.parent_task_run_id, []).append(run.id)
    if item.kind == "task":
        if item.task_run_id is None:
            return "-not-run-"  # a task that did not run has no lines
        roots = [item.task_run_id]
    elif item.kind == "iter":
        _kind, task_id, value_path = item.key  # type: ignore[misc]
        roots = [r.id for r in model.task_runs.values()
                 if tuple(r.value_path) == value_path and r.parent_task_run_id is not None
                 and (parent := model.task_runs.get(r.parent_task_run_id)) is not None
                 and parent.task_id == task_id]
    wanted: set[str] = set()
    pending = list(roots)
    while pending:
        run_id = pending.pop()
        if run_id not in wanted:
            wanted.add(run_id)
            pending.extend(children.get(run_id, ()))
    if len(wanted) == 1:
        return next(iter(wanted))
    return frozenset(wanted)
