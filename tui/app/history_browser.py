"""History: past executions listed from the database and opened like live ones.

Loading happens in a worker thread (a big execution's logs take a moment); the model it builds
has the same shape as a live one, so every pane shows both the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widgets import TabbedContent

from tui.widgets.flow_list import FlowList
from tui.widgets.history_pane import HistoryPane
from tui.app.workbench import WorkbenchCore

if TYPE_CHECKING:
    from engine.flow.model import Flow
    from tui.models.run_model import ExecutionModel

__all__ = ["HistoryLoaded", "HistoryMixin"]


class HistoryLoaded(Message):
    def __init__(self, model: ExecutionModel | None, execution_id: str, select: bool) -> None:
        super().__init__()
        self.model = model
        self.execution_id = execution_id
        self.select = select


class HistoryMixin(WorkbenchCore):
    """Opening executions from history (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id if event.pane is not None else None
        if pane == "history":
            self._refresh_history()
        elif pane == "files":
            self._refresh_files()

    def _refresh_history(self) -> None:
        if self.session is None:
            return
        entry = self.selected_entry
        try:
            executions = self.session.list_executions()
        except Exception as exc:
            self._report_error("reading the history failed", exc)
            return
        self.main.query_one(HistoryPane).show(executions, entry.key if entry else None)

    def on_history_pane_execution_opened(self, event: HistoryPane.ExecutionOpened) -> None:
        self.open_execution(event.execution_id)

    def open_execution(self, execution_id: str) -> None:
        """Show a past execution (loaded in a thread) like a live one."""
        session = self.session
        if session is None:
            return
        model = session.models.get(execution_id)
        if model is not None:
            self._show_opened(model)
            return
        self.notify("Loading execution…", timeout=1)
        self._load_execution(execution_id, None, True)

    @work(thread=True, group="history-load")
    def _load_execution(self, execution_id: str, flow: Flow | None, select: bool) -> None:
        assert self.session is not None
        try:
            model = self.session.load_execution(execution_id, flow)
        except Exception as exc:
            self.call_from_thread(self._report_error, "loading the execution failed", exc)
            return
        self.post_message(HistoryLoaded(model, execution_id, select))

    def _load_latest_from_history(self, flow_key: str, flow: Flow) -> None:
        session = self.session
        if session is None or session.runtime.history is None:
            return
        namespace, _, flow_id = flow_key.rpartition(".")
        executions = [e for e in session.runtime.history.list_executions(limit=1, flow_id=flow_id)
                      if e.namespace == namespace]
        if executions:
            self._load_execution(executions[0].id, flow, False)

    def on_history_loaded(self, event: HistoryLoaded) -> None:
        model = event.model
        if model is None:
            if event.select:
                self.notify(f"No execution {event.execution_id} in the history", severity="error")
            return
        assert self.session is not None
        model = self.session.adopt(model)
        key = model.flow_key
        if not event.select:
            # The latest run of a flow, shown when the flow is first selected.
            if key not in self.latest:
                self.latest[key] = model.id
                self.main.query_one(FlowList).set_states(self._flow_states())
                entry = self.selected_entry
                if entry is not None and entry.key == key and self.shown is None:
                    self.show_execution(model)
            return
        self._show_opened(model)

    def _show_opened(self, model: ExecutionModel) -> None:
        catalog = self.catalog
        key = model.flow_key
        self.latest[key] = model.id
        entry = catalog.by_key(key) if catalog is not None else None
        if model.flow is None and entry is not None:
            model.flow = entry.flow
        if entry is not None:
            flow_list = self.main.query_one(FlowList)
            self.selected_path = entry.path
            flow_list.select_path(entry.path)
            self._refresh_flow_panes()
        self.selected_item = None
        self.show_execution(model)
        self.main.query_one(FlowList).set_states(self._flow_states())
        self.main.focus_pane("logs")
