"""The status bar (top line) and the right-hand pane's title, subtitle and empty-logs hint.

Both are repainted as often as the engine ticks, so both are set only when they change: a
border change repaints the whole right-hand pane, a status change the screen's full width.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.markup import escape
from textual.widgets import Static

from tui.app.debug_view import paused_hint
from tui.screens.main import DetailTabs
from tui.widgets.log_view import LogView
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.workspace import WorkbenchSettings, Workspace
    from tui.models.flow_catalog import FlowEntry
    from tui.models.run_model import ExecutionModel
    from tui.widgets.task_tree import TreeItem

__all__ = ["COUNT_REFRESH_SECONDS", "StatusLine"]

COUNT_REFRESH_SECONDS = 0.5
"""While lines stream in, the subtitle's line count changes at most this often."""


class StatusLine:
    """Says where the workbench looks, what it shows and runs, and the switches that are on."""

    def __init__(self, host: AppHost, workspace: Workspace, settings: WorkbenchSettings) -> None:
        self._host = host
        self._workspace = workspace
        self._settings = settings
        self._subtitle_state: object = None
        self._subtitle_due = 0.0

    def show(self, model: ExecutionModel | None) -> None:
        """The top line. It shows no ticking clock or spinner (the tree root has them): a
        change there would repaint the screen's full width each frame, the tree's rows too."""
        workspace = self._workspace
        session, catalog = workspace.session, workspace.catalog
        common = dict(where=str(workspace.path),
                      flows=len(catalog.entries) if catalog is not None else 0,
                      auto_run=self._settings.auto_run,
                      running=len(session.running()) if session is not None else 0,
                      triggers=session is not None and session.triggers is not None)
        status = self._host.main.query_one(StatusBar)
        if model is None:
            status.set_info(execution=None, state=None, seconds=None, debug=None, **common)
            return
        pause = model.paused.inspection if model.paused is not None else None
        finished = model.execution.state.is_terminal
        status.set_info(execution=model.execution.flow_id, state=model.execution.state.value,
                        seconds=model.duration_seconds() if finished else None,
                        debug=paused_hint(pause.task_id) if pause is not None else None,
                        **common)

    def show_detail_title(self, model: ExecutionModel | None, item: TreeItem | None,
                          entry: FlowEntry | None, *, from_tick: bool = False) -> None:
        """What the right-hand panes show (title), the log status (subtitle) and the hint over
        empty logs; the line count at most ``COUNT_REFRESH_SECONDS`` apart from a tick."""
        main = self._host.main
        detail = main.query_one(DetailTabs)
        title = escape(_scope_title(model, item))
        if detail.border_title != title:
            detail.border_title = title
        log_view = main.query_one(LogView)
        level = f"≥{log_view.min_level}" if log_view.min_level else "all levels"
        follow = "following" if log_view.follow else "paused (f to follow)"
        count = len(log_view.view)
        now = time.monotonic()
        # The log status belongs to Logs: the other panes' border stays clear.
        on_logs = detail.active == "logs"
        state = (level, follow, count == 0, on_logs)
        if from_tick and state == self._subtitle_state and now < self._subtitle_due:
            return
        subtitle = (f"{count:,} line{'s' if count != 1 else ''} · {level} · {follow}"
                    if on_logs else "")
        if detail.border_subtitle != subtitle:
            detail.border_subtitle = subtitle
            self._subtitle_state = state
            self._subtitle_due = now + COUNT_REFRESH_SECONDS
        hint = main.query_one("#logs-hint", Static)
        message = _logs_hint(model, item, entry, len(log_view.view))
        if message and log_view.min_level and len(log_view.store):
            message = f"No line at ≥{log_view.min_level} here: l changes the level filter."
        hint.set_class(bool(message), "-visible")
        if message and str(hint.content) != message:
            hint.update(message)


def _scope_title(model: ExecutionModel | None, item: TreeItem | None) -> str:
    if model is None:
        return "no execution"
    if item is not None and item.kind == "iter":
        return f"{item.key[1]} [{item.key[-1][-1]}]"  # type: ignore[index]
    if item is None or item.kind != "task":
        return f"execution {model.id[:8]}"
    run = model.task_run(item.task_run_id)
    scope = item.task_id or ""
    if run is not None and run.value is not None:
        scope += f" [{run.value}]"
    if run is None:
        scope += " · not run"
    return scope


def _logs_hint(model: ExecutionModel | None, item: TreeItem | None, entry: FlowEntry | None,
               lines: int) -> str:
    """Why Logs is empty, and what to do about it ("" when it is not)."""
    if lines:
        return ""
    if model is None:
        if entry is None:
            return ""
        return f"No execution of {entry.flow_id} yet: press r to run it."
    if model.live and not model.logs_loaded:
        return "Loading the logs…"
    if item is not None and item.kind == "task":
        if item.task_run_id is None:
            return f"{item.task_id} did not run in this execution."
        return f"{item.task_id} logged nothing."
    if model.live:
        return "Waiting for the first log line…"
    return "This execution logged nothing."
