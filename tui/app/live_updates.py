"""Live updates: engine events folded into models and the panes repainted, ~30 times a second.

The timer runs only while something runs (it pauses once every model is frozen), so an idle
workbench costs nothing. It also says when an execution pauses or ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.app.host import report_error
from tui.app.mock_control import MockControl
from tui.models.formatting import STATE_SYMBOLS, format_duration
from tui.screens.main import DetailTabs
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.timer import Timer

    from tui.app.history_browser import HistoryBrowser
    from tui.app.host import AppHost
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.models.run_model import ExecutionModel

__all__ = ["LiveUpdates"]

TICK_SECONDS = 1 / 30
FLOOD_LINES_PER_TICK = 500
"""More new log lines than this in one tick is a flood: Logs then syncs less often."""
FLOOD_SYNC_SECONDS = 0.25


class LiveUpdates:
    """The engine-events timer and what it repaints."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 history: HistoryBrowser, *,
                 on_timer: Callable[[], object] | None = None) -> None:
        """``on_timer``: what the timer calls, :meth:`tick` unless the app wraps it."""
        self._host = host
        self._on_timer = on_timer or self.tick
        self._workspace = workspace
        self._selection = selection
        self._history = history
        self._ticker: Timer | None = None
        self._next_log_sync = 0.0
        self._paused_notified: dict[str, object] = {}
        self._mocks = MockControl(host, workspace)  # offers a mock at a pause it can answer
        self._anything_ran = False
        """Whether something ran at the last tick: ``x`` shows in the footer only then."""

    def ensure_ticking(self) -> None:
        """Something started running: fold its events until everything is frozen again."""
        if self._ticker is None:
            self._ticker = self._host.set_interval(TICK_SECONDS, self._on_timer,
                                                   name="engine-events")
        else:
            self._ticker.resume()

    def tick(self) -> None:
        """Fold engine events into models and repaint what changed (UI thread, ~30 fps)."""
        self._fold_and_repaint()
        try:
            self._selection.refresh_debug()
        except Exception as exc:
            report_error(self._host, "updating the Debug pane failed", exc)

    def _fold_and_repaint(self) -> None:
        session = self._workspace.session
        if session is None:
            return
        selection = self._selection
        try:
            touched = session.fold_events()
            shown = selection.shown
            main = self._host.main
            if shown is not None and not session.inbox.held:  # (a key waits for its frame)
                self._sync_logs(main.query_one(LogView))
                if shown.id in touched or shown.live:
                    selection.refresh_tree()
                if shown.id in touched:
                    selection.apply_log_filter()
                    main.query_one(OutputsPane).show(shown)
                    if main.query_one(DetailTabs).active == "files":
                        selection.refresh_files()
                    if main.query_one(DetailTabs).active == "changes":
                        selection.refresh_changes()
            if touched:
                selection.refresh_flow_states()
            for execution_id in touched:
                model = session.models.get(execution_id)
                if model is None:
                    continue
                if model.paused is not None and model.paused is not self._paused_notified.get(model.id):
                    self._paused_notified[model.id] = model.paused
                    self._announce_pause(model)
                    self._mocks.check()
                if not model.live and model.finished:
                    self._execution_finished(model)
            selection.refresh_status()
            selection.refresh_title(from_tick=True)
            running = bool(session.running())
            if running != self._anything_ran:
                self._anything_ran = running
                self._host.refresh_bindings()
            # Pause only once every model is frozen: an execution can end between the fold
            # above and this check, and its model must still be folded one last time.
            idle = not session.inbox.pending and not any(m.live for m in session.models.values())
            if idle and self._ticker is not None:
                self._ticker.pause()
        except Exception as exc:  # never a traceback on screen: report and keep going
            report_error(self._host, "updating the screen failed", exc)

    def _sync_logs(self, log_view: LogView) -> None:
        """Take in new log lines: every tick normally, 4 times a second during a flood, so
        key presses keep the frames for themselves when a task prints 100k lines a second."""
        now = time.monotonic()
        if now < self._next_log_sync:
            return
        before = len(log_view.view)
        log_view.sync()
        added = len(log_view.view) - before
        self._next_log_sync = now + (FLOOD_SYNC_SECONDS if added > FLOOD_LINES_PER_TICK else 0)

    def _announce_pause(self, model: ExecutionModel) -> None:
        """A Pause task waits for ``u``; a breakpoint or a step waits before a task, and the
        Debug pane comes forward with the paused task selected."""
        assert model.paused is not None
        pause = model.paused.inspection
        flow_id = model.execution.flow_id
        if pause is None:
            self._host.notify(f"⏸ {flow_id} paused at {model.paused.task_id}: u resumes, "
                              f"x cancels", severity="warning", timeout=6)
            return
        self._host.notify(f"⏸ {flow_id} paused before {pause.task_id} ({pause.reason}): n next "
                          f"· c continue · k skip · x abort", severity="warning", timeout=4,
                          markup=False)
        selection = self._selection
        if model is selection.shown:
            detail = self._host.main.query_one(DetailTabs)
            if detail.active != "debug":
                detail.active = "debug"
            selection.select_task_node(model, pause.task_id, pause.task_run_id)
        selection.refresh_debug()

    def _execution_finished(self, model: ExecutionModel) -> None:
        if model.announced:
            return
        model.announced = True
        state = model.execution.state.value
        severity: SeverityLevel = "information" if state in ("SUCCESS", "WARNING") else "error"
        self._host.notify(f"{STATE_SYMBOLS.get(state, '')} {model.execution.flow_id} {state} in "
                          f"{format_duration(model.duration_seconds())}", severity=severity,
                          timeout=4)
        selection = self._selection
        selection.refresh_flow_states()
        self._history.refresh()
        if model is selection.shown:
            self._host.main.query_one(LogView).sync()  # a flood's last lines, throttled or not
            selection.refresh_tree(force=True)
            self._host.main.query_one(OutputsPane).show(model, force=True)
            selection.refresh_files()
            if state == "FAILED":
                selection.bring_logs_to_first_error()
            selection.refresh_title()  # the final line count: the ticks stop after this one
