"""The workbench screen: flows and tasks on the left, Logs/Outputs/Files/Source/History/Triggers/
Debug/Changes/Tests on the right.

Only layout and pane navigation live here; the app drives the content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.widgets.banner import ErrorBanner
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.debug_pane import DebugPane
from tui.widgets.files_pane import FilesPane
from tui.widgets.flow_list import FlowList
from tui.widgets.history_pane import HistoryPane
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.source_pane import SourcePane
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_tree import TaskTree
from tui.widgets.tests_pane import TestsPane
from tui.widgets.triggers_pane import TriggersPane

__all__ = ["PANES", "DetailTabs", "MainScreen"]

PANES: tuple[tuple[str, str], ...] = (
    ("logs", "Logs"),
    ("outputs", "Outputs"),
    ("files", "Files"),
    ("source", "Source"),
    ("history", "History"),
    ("triggers", "Triggers"),
    ("debug", "Debug"),
    ("changes", "Changes"),
    ("tests", "Tests"),
)


class WorkbenchFooter(Footer):
    """The footer with its keys in the first frame: Textual's fills itself a few frames
    after the screen is up (once it hears that the bindings changed), which a start in a
    slow terminal shows as an empty bar. Later binding changes recompose it as usual."""

    _bindings_ready = reactive(True, repaint=False)


class DetailTabs(TabbedContent):
    """The right-hand panes; maximising any of them maximises the whole tab set."""

    ALLOW_MAXIMIZE = True


class MainScreen(Screen[None]):
    """Layout and pane focus; ``tab``/``shift+tab`` go pane to pane, not widget to widget."""

    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusBar"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_pane", "Next pane", show=False),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False),
        # The app's (tui/app/runs.py RunKeys): bound here as roost_app.py is at its size limit.
        Binding("S", "app.simulate_again", "Simulate again", show=False),
    ]

    def __init__(self, resolve_uri: Callable[[str], Path]) -> None:
        super().__init__(id="main")
        self.resolve_uri = resolve_uri

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield ErrorBanner(id="banner")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield FlowList(id="flows")
                yield TaskTree(id="tasks")
            with DetailTabs(id="detail", initial="logs"):
                for number, (pane_id, title) in enumerate(PANES, start=1):
                    with TabPane(f"{number} {title}", id=pane_id):
                        yield self._pane(pane_id)
        yield WorkbenchFooter()

    def _pane(self, pane_id: str) -> Widget:
        if pane_id == "logs":
            return Vertical(Static("", id="logs-hint"), LogView(id="log-view"), id="logs-pane")
        if pane_id == "outputs":
            return OutputsPane(self.resolve_uri, id="outputs-pane")
        if pane_id == "files":
            return FilesPane(id="files-pane")
        if pane_id == "source":
            return SourcePane(id="source-pane")
        if pane_id == "triggers":
            return TriggersPane(id="triggers-pane")
        if pane_id == "debug":
            return DebugPane(id="debug-pane")
        if pane_id == "changes":
            return ChangesPane(id="changes-pane")
        if pane_id == "tests":
            return TestsPane(id="tests-pane")
        return HistoryPane(id="history-pane")

    class Ready(Message):
        """The panes are composed and mounted: the app may fill them."""

    def on_mount(self) -> None:
        self.query_one("#flows").border_title = "Flows"
        self.query_one("#tasks").border_title = "Tasks"
        self.app.post_message(self.Ready())

    # -- pane focus ----------------------------------------------------------------------------

    def pane_ids(self) -> list[str]:
        """Every pane in tab order: the two on the left, then the right-hand tabs."""
        return ["flows", "tasks", *(pane_id for pane_id, _title in PANES)]

    def pane_widget(self, pane_id: str) -> Widget:
        if pane_id == "flows":
            return self.query_one(FlowList)
        if pane_id == "tasks":
            return self.query_one(TaskTree)
        return self.focus_target(pane_id)

    def focus_pane(self, pane_id: str) -> None:
        """Show (for a right-hand pane) and focus a pane."""
        if pane_id in dict(PANES):
            detail = self.query_one(DetailTabs)
            if detail.active != pane_id:
                detail.active = pane_id
        if self.maximized is not None and pane_id in ("flows", "tasks"):
            self.minimize()
        self.pane_widget(pane_id).focus()

    def focus_target(self, pane_id: str) -> Widget:
        """The widget that takes focus when a right-hand pane is entered."""
        if pane_id == "logs":
            return self.query_one(LogView)
        if pane_id == "outputs":
            return self.query_one(OutputsPane).output_tree
        if pane_id == "files":
            return self.query_one(FilesPane).file_tree
        if pane_id == "source":
            return self.query_one(SourcePane)
        if pane_id == "triggers":
            return self.query_one(TriggersPane).table
        if pane_id == "debug":
            debug = self.query_one(DebugPane)
            return debug.variables_tree if debug.pause is not None else debug
        if pane_id == "changes":
            return self.query_one(ChangesPane).change_tree
        if pane_id == "tests":
            return self.query_one(TestsPane).table
        return self.query_one(HistoryPane)

    def current_pane(self) -> str | None:
        """The pane holding the focus."""
        focused = self.focused
        if focused is None:
            return None
        chain = [focused, *focused.ancestors]
        if self.query_one(FlowList) in chain:
            return "flows"
        if self.query_one(TaskTree) in chain:
            return "tasks"
        detail = self.query_one(DetailTabs)
        if detail in chain:
            return detail.active or "logs"
        return None

    def on_files_pane_moved_output_opened(self, event: FilesPane.MovedOutputOpened) -> None:
        """The Files pane's "outputs moved to storage" line: the file in Outputs, focused."""
        event.stop()
        self.focus_pane("outputs")
        self.query_one(OutputsPane).select_artifact(event.output.task_run_id, event.output.name)

    def action_next_pane(self) -> None:
        self._move_pane(+1)

    def action_previous_pane(self) -> None:
        self._move_pane(-1)

    def _move_pane(self, step: int) -> None:
        panes = self.pane_ids()
        current = self.current_pane()
        index = panes.index(current) if current in panes else -1
        target = panes[(index + step) % len(panes)] if index >= 0 else panes[0]
        if self.maximized is not None:
            self.minimize()
        self.focus_pane(target)
