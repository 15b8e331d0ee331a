"""History: past executions listed from the database and opened like live ones.

Loading happens in a worker thread (a big execution's logs take a moment) that posts
:class:`HistoryLoaded`; the model it builds has the same shape as a live one, so every pane
shows both the same way.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from tui.app.host import report_error
from tui.widgets.history_pane import HistoryPane

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.engine_port import Flow
    from tui.models.run_model import ExecutionModel

__all__ = ["HistoryBrowser", "HistoryLoaded"]


class HistoryLoaded(Message):
    """A worker read an execution from the history (``model`` None: no such execution).
    ``select``: the user asked for it (else it is a flow's latest, shown if nothing is)."""

    def __init__(self, model: ExecutionModel | None, execution_id: str, select: bool) -> None:
        super().__init__()
        self.model = model
        self.execution_id = execution_id
        self.select = select


class HistoryBrowser:
    """The History pane, opening past executions, and each flow's last execution shown when
    the flow is first selected in a new workbench."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._looked_up: set[str] = set()
        """Flows whose latest execution was already asked of the history (asked once)."""

    def refresh(self) -> None:
        """Re-read the list (the tab is shown, an execution ended)."""
        session = self._workspace.session
        if session is None:
            return
        entry = self._selection.selected_entry
        try:
            executions = session.list_executions()
        except Exception as exc:
            report_error(self._host, "reading the history failed", exc)
            return
        self._host.main.query_one(HistoryPane).show(executions, entry.key if entry else None)

    def open_execution(self, execution_id: str) -> None:
        """Show a past execution (loaded in a thread) like a live one."""
        session = self._workspace.session
        if session is None:
            return
        model = session.models.get(execution_id)
        if model is not None:
            self._show_opened(model)
            return
        self._host.notify("Loading execution…", timeout=1)
        self._load(execution_id, None, select=True)

    def look_up_latest(self) -> None:
        """The selected flow shows no execution: its last one from the history, if any, is
        loaded and shown (once per flow)."""
        session = self._workspace.session
        entry = self._selection.selected_entry
        if (entry is None or session is None or entry.flow is None
                or self._selection.shown is not None or entry.key in self._looked_up):
            return
        self._looked_up.add(entry.key)
        history = session.runtime.history
        if history is None:
            return
        namespace, _, flow_id = entry.key.rpartition(".")
        executions = [e for e in history.list_executions(limit=1, flow_id=flow_id)
                      if e.namespace == namespace]
        if executions:
            self._load(executions[0].id, entry.flow, select=False)

    def loaded(self, event: HistoryLoaded) -> None:
        """A worker's result, on the UI thread."""
        model = event.model
        if model is None:
            if event.select:
                self._host.notify(f"No execution {event.execution_id} in the history",
                                  severity="error")
            return
        session = self._workspace.session
        assert session is not None
        model = session.adopt(model)
        if event.select:
            self._show_opened(model)
            return
        # The latest run of a flow, shown when the flow is first selected.
        selection = self._selection
        key = model.flow_key
        if key not in selection.latest:
            selection.latest[key] = model.id
            selection.refresh_flow_states()
            entry = selection.selected_entry
            if entry is not None and entry.key == key and selection.shown is None:
                selection.show_execution(model)

    def _load(self, execution_id: str, flow: Flow | None, *, select: bool) -> None:
        self._host.run_worker(partial(self._load_in_thread, execution_id, flow, select),
                              name="load-execution", group="history-load", thread=True)

    def _load_in_thread(self, execution_id: str, flow: Flow | None, select: bool) -> None:
        session = self._workspace.session
        assert session is not None
        try:
            model = session.load_execution(execution_id, flow)
        except Exception as exc:
            self._host.call_from_thread(report_error, self._host,
                                        "loading the execution failed", exc)
            return
        self._host.post_message(HistoryLoaded(model, execution_id, select))

    def _show_opened(self, model: ExecutionModel) -> None:
        selection = self._selection
        selection.latest[model.flow_key] = model.id
        entry = self._workspace.entry_for_key(model.flow_key)
        if model.flow is None and entry is not None:
            model.flow = entry.flow
        if entry is not None:
            selection.point_at_flow(entry)
        selection.selected_item = None
        selection.show_execution(model)
        selection.refresh_flow_states()
        self._host.main.focus_pane("logs")
