"""Roost's workbench: ``roost [PATH]`` opens it on a flow file or a folder of flows.

:class:`RoostApp` composes parts that each do one job and are told what they need when they
are made (the app itself only through the :class:`~tui.app.host.AppHost` protocol):

* :class:`~tui.app.workspace.Workspace`: PATH's flows, the engine session, the breakpoints;
* :class:`~tui.app.selection.Selection`: what the panes show, and repainting them (with
  :class:`~tui.app.status_line.StatusLine`, :class:`~tui.app.changes_view.ChangesView` and
  :class:`~tui.app.debug_view.DebugView`);
* :class:`~tui.app.live_updates.LiveUpdates`: engine events folded in on a timer;
* :class:`~tui.app.runs.Runs`, :class:`~tui.app.history_browser.HistoryBrowser`,
  :class:`~tui.app.hot_reload.HotReload`, :class:`~tui.app.trigger_control.TriggerControl`,
  :class:`~tui.app.debug_control.DebugControl`, :class:`~tui.app.replay_control.ReplayControl`,
  :class:`~tui.app.tests_control.TestsControl`, :class:`~tui.app.suite_recorder.SuiteRecorder`
  and :class:`~tui.app.artifacts.ArtifactCommands`: what the keys do.

Keys that only mean something in one pane are that pane's bindings (Logs, Triggers, Source,
History, Tests); the app's keys work from any pane, and each action hands over to its part.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import TabbedContent

from tui.app.artifacts import ArtifactCommands
from tui.app.changes_view import ChangesView
from tui.app.clipboard import ClipboardCommands
from tui.app.compare_view import CompareView
from tui.app.debug_control import WHILE_PAUSED, DebugControl
from tui.app.debug_view import DebugView
from tui.app.frame_first import Opening, TreeMoves
from tui.app.history_browser import HistoryBrowser, HistoryLoaded
from tui.app.hot_reload import FlowFilesChanged, HotReload
from tui.app.input_first import InputFirstApp
from tui.app.live_updates import LiveUpdates
from tui.app.palette import palette_commands
from tui.app.replay_control import ReplayControl
from tui.app.runs import RunKeys, Runs
from tui.app.selection import Selection
from tui.app.status_line import StatusLine
from tui.app.suite_recorder import SuiteRecorded, SuiteRecorder
from tui.app.tests_control import TestsControl, TestsMessage
from tui.app.trigger_control import TriggerControl, TriggersChanged
from tui.app.workspace import WorkbenchSettings, Workspace
from tui.models.artifacts import ArtifactError
from tui.screens.help import HelpScreen
from tui.screens.main import PANES, MainScreen
from tui.widgets.files_pane import FilesPane
from tui.widgets.flow_list import FlowList
from tui.widgets.history_pane import HistoryPane
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.task_tree import TaskTree
from tui.widgets.tests_pane import TestsPane
from tui.widgets.triggers_pane import TriggersPane

if TYPE_CHECKING:
    from tui.app.session import WorkbenchSession
    from tui.engine_port import RoostHome, RunOptions
    from tui.models.flow_catalog import FlowCatalog
    from tui.models.run_model import ExecutionModel
    from tui.widgets.task_tree import TreeItem

__all__ = ["RoostApp", "run_workbench"]

UI_SWITCH_INTERVAL = 0.001
SPINNER_FPS = 8


class RoostApp(RunKeys, InputFirstApp):
    """The workbench. ``path``: a flow file or a folder of flows."""

    CSS_PATH = Path(__file__).parent.parent / "roost.tcss"
    TITLE = "Roost"
    ENABLE_COMMAND_PALETTE = True

    # In the order the footer has always shown them (the pause keys first, then the runs).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("P", "replay", "Replay from task", show=False),
        Binding("n", "debug_next", "Next", priority=True),
        Binding("c", "debug_continue", "Continue", priority=True),
        Binding("c", "copy", "Copy", show=False),
        Binding("k", "debug_skip", "Skip", priority=True),
        Binding("full_stop", "debug_rerun", "Re-run last", priority=True),
        Binding("exclamation_mark", "debug_shell", "Shell", priority=True),
        Binding("b", "toggle_breakpoint", "Breakpoint", show=False),
        Binding("colon", "evaluate", "Evaluate", show=False),
        Binding("r", "run", "Run"),
        Binding("x", "cancel", "Cancel"),
        Binding("R", "rerun", "Re-run"),
        Binding("a", "toggle_auto_run", "Auto-run"),
        Binding("s", "step", "Step"),  # no pane binds s (n: next match, next error)
        Binding("T", "toggle_triggers", "Triggers", show=False),
        Binding("u", "resume", "Resume", show=False),
        Binding("f", "follow_logs", "Follow", show=False),
        Binding("slash", "search_logs", "Search", show=False),
        Binding("e", "save_artifact", "Save", show=False),
        Binding("o", "open_artifact('pager')", "$PAGER", show=False),
        Binding("O", "open_artifact('editor')", "$EDITOR", show=False),
        Binding("z", "toggle_maximize", "Max", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit_workbench", "Quit"),
        *(Binding(str(n), f"show_pane('{pane}')", title, show=False)
          for n, (pane, title) in enumerate(PANES, start=1)),
    ]

    def __init__(self, path: Path | str = ".", *, home: RoostHome | None = None,
                 options: RunOptions | None = None, watch: bool = True,
                 environ: dict[str, str] | None = None) -> None:
        super().__init__()
        self.settings = WorkbenchSettings(watch=watch)
        self.workspace = Workspace(Path(path), home=home, options=options, environ=environ)
        self.crash_log: Path | None = None
        """Where an internal error's traceback goes (set by ``run_workbench``)."""
        self.crash_message: str | None = None
        workspace = self.workspace
        status = StatusLine(self, workspace, self.settings)
        self._selection = Selection(self, workspace, status=status,
                                    changes=ChangesView(self, workspace), debug=DebugView(self),
                                    spinner_frame=lambda: self._frame())
        self._history = HistoryBrowser(self, workspace, self._selection)
        self._live = LiveUpdates(self, workspace, self._selection, self._history,
                                 on_timer=lambda: self._tick())
        self._runs = Runs(self, workspace, self._selection, self._live, self.settings)
        self._triggers = TriggerControl(self, workspace, self._selection, self._live)
        self._debug = DebugControl(self, workspace, self._selection, self._runs)
        self._replay = ReplayControl(self, workspace, self._selection, self._live, self._runs)
        self._tests = TestsControl(self, workspace, self._selection, self._live)
        self._recorder = SuiteRecorder(self, workspace, self._selection, self._tests)
        self._hot_reload = HotReload(self, workspace, self._selection, self._runs,
                                     self._triggers, self._tests)
        self._artifacts = ArtifactCommands(self)
        self._tree_moves = TreeMoves(self, self._selection)
        self._opening = Opening(self, workspace, self._selection, self._opened, self._select_flow)
        self._copier = ClipboardCommands(
            self, lambda: self._selection.shown.execution.id if self._selection.shown else None,
            self.copy_to_clipboard)

    # -- what tests, benchmarks and the parts read -------------------------------------------

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    @property
    def path(self) -> Path:
        return self.workspace.path

    @property
    def session(self) -> WorkbenchSession | None:
        return self.workspace.session

    @property
    def catalog(self) -> FlowCatalog | None:
        """Every flow, once all are parsed (the first paint shows the first one only)."""
        return self.workspace.catalog if self.workspace.opened else None

    @property
    def startup_error(self) -> str | None:
        return self.workspace.startup_error

    @property
    def shown(self) -> ExecutionModel | None:
        return self._selection.shown

    @property
    def selected_item(self) -> TreeItem | None:
        return self._selection.selected_item

    @property
    def selected_path(self) -> Path | None:
        return self._selection.selected_path

    @property
    def latest(self) -> dict[str, str]:
        return self._selection.latest

    @property
    def last_inputs(self) -> dict[str, dict[str, Any]]:
        return self._runs.last_inputs

    @property
    def auto_run(self) -> bool:
        return self.settings.auto_run

    @property
    def reload_count(self) -> int:
        """Hot reloads applied (tests and benchmarks wait on it)."""
        return self._hot_reload.reload_count

    def apply_file_changes(self, paths: Iterable[Path]) -> None:
        """What the watcher does with changed files (tests call it without a watcher)."""
        self._hot_reload.apply(paths)

    def _tick(self) -> None:
        """One frame of live updates: the timer calls it here, where benchmarks time it."""
        self._live.tick()

    def _frame(self) -> int:
        """The tree's spinner frame (on the app so snapshot tests can freeze it)."""
        return int(time.monotonic() * SPINNER_FPS)

    # -- start and stop ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self._resolve_uri)

    def _resolve_uri(self, uri: str) -> Path:
        session = self.workspace.session
        if session is None:
            raise ArtifactError("the engine is not available")
        return session.resolve_uri(uri)

    def on_mount(self) -> None:
        self.theme = "tokyo-night"
        # The UI thread competes for the GIL with the engine's threads (a task flooding its
        # output keeps them busy): a short switch interval lets a key press in within ~1 ms
        # instead of 5 ms per wait, at a small cost in the engine's throughput.
        sys.setswitchinterval(UI_SWITCH_INTERVAL)

    @on(MainScreen.Ready)
    def _main_ready(self) -> None:
        entries = self.workspace.open()
        self._selection.show_opened(entries)
        self._adapt_layout()
        self.main.query_one(FlowList).focus()
        self._selection.refresh_status()
        if not entries:
            self._opening.start()

    def _opened(self) -> None:
        """Every flow parsed (after the first paint, see frame_first.Opening)."""
        if self.settings.watch:
            self._hot_reload.start_watching()

    def on_unmount(self) -> None:
        self._hot_reload.stop_watching()
        self.workspace.close()
        self._selection.close()

    def on_resize(self) -> None:
        self._adapt_layout()

    def _adapt_layout(self) -> None:
        width, height = self.size
        main = self.main
        main.set_class(width < 110, "-narrow")
        main.set_class(height < 32, "-short")

    def _fatal_error(self) -> None:
        """A bug that escaped every handler: the details go to a file, the user gets one line
        (never a traceback on screen). Tests and ``textual run --dev`` keep Textual's report."""
        if self.crash_log is None:
            super()._fatal_error()
            return
        where = write_crash_report(self.crash_log)
        self.crash_message = (
            f"roost: the workbench stopped on an internal error: {self._exception!r} ({where})")
        self._exit_renderables.append(self.crash_message)
        self._close_messages_no_wait()

    # -- what the panes say --------------------------------------------------------------------

    @on(FlowList.FlowSelected)
    def _flow_selected(self, event: FlowList.FlowSelected) -> None:
        self._select_flow(event.path)

    @on(FlowList.FlowOpened)
    def _flow_opened(self, event: FlowList.FlowOpened) -> None:
        self._select_flow(event.path)
        self.main.focus_pane("tasks")

    def _select_flow(self, path: Path) -> None:
        self._selection.select_flow(path)
        self._history.look_up_latest()
        self._triggers.refresh()
        self._tests.flow_selected()
        self._opening.start()  # the first flow is on screen: the others after this frame

    @on(TaskTree.TaskSelected)
    def _task_selected(self, event: TaskTree.TaskSelected) -> None:
        self._tree_moves.moved(event.item)  # drawn first, the panes follow after that frame

    @on(TaskTree.TaskOpened)
    def _task_opened(self) -> None:
        self.main.focus_pane("logs")

    @on(LogView.FollowChanged)
    @on(LogView.RowsChanged)
    def _log_rows_changed(self) -> None:
        self._selection.refresh_title()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        """A pane refreshed only while visible catches up when it is shown."""
        pane = event.pane.id if event.pane is not None else None
        self._selection.refresh_title()  # the log status shows on Logs only
        if pane == "history":
            self._history.refresh()
        elif pane == "files":
            self._selection.refresh_files()
        elif pane == "changes":
            self._selection.refresh_changes()
        elif pane == "tests":
            self._tests.refresh()

    @on(OutputsPane.ArtifactOpened)
    @on(FilesPane.FileOpened)
    def _artifact_opened(self, event: OutputsPane.ArtifactOpened | FilesPane.FileOpened) -> None:
        self._artifacts.preview(event.artifact)

    @on(HistoryPane.ExecutionOpened)
    def _execution_opened(self, event: HistoryPane.ExecutionOpened) -> None:
        self._history.open_execution(event.execution_id)

    @on(HistoryPane.CompareRequested)
    def _compare_requested(self, event: HistoryPane.CompareRequested) -> None:
        CompareView(self, self.workspace).open(event.left, event.right)

    @on(HistoryLoaded)
    def _history_loaded(self, event: HistoryLoaded) -> None:
        self._history.loaded(event)

    @on(FlowFilesChanged)
    def _flow_files_changed(self, event: FlowFilesChanged) -> None:
        self._hot_reload.files_changed(event.paths, catch_up=event.catch_up)

    @on(TriggersChanged)
    def _triggers_changed(self) -> None:
        self._triggers.changed()

    @on(TriggersPane.PauseToggled)
    def _trigger_pause_toggled(self, event: TriggersPane.PauseToggled) -> None:
        self._triggers.act_on(event.row, "pause")

    @on(TriggersPane.FireRequested)
    def _trigger_fire_requested(self, event: TriggersPane.FireRequested) -> None:
        self._triggers.act_on(event.row, "fire")

    @on(TestsPane.RunCase)
    def _test_case_run(self, event: TestsPane.RunCase) -> None:
        self._tests.run_case(event.row)

    @on(TestsPane.RunAll)
    def _test_cases_run_all(self) -> None:
        self._tests.run_all()

    @on(TestsPane.GoToTask)
    def _test_task_shown(self, event: TestsPane.GoToTask) -> None:
        self._tests.go_to_task(event.row)

    @on(TestsMessage)
    def _tests_message(self, event: TestsMessage) -> None:
        self._tests.handle(event)

    @on(SuiteRecorded)
    def _suite_recorded(self, event: SuiteRecorded) -> None:
        self._recorder.recorded(event)

    # -- keys ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WHILE_PAUSED:  # the pause keys, and x / s (see DebugControl.key_active)
            return self._debug.key_active(action)
        if action == "record_test":
            return self._recorder.available()
        return super().check_action(action, parameters)

    def action_run(self, step: bool = False) -> None:
        self._runs.run_selected(step=step)

    def action_cancel(self) -> None:
        self._runs.cancel()

    def action_rerun(self) -> None:
        self._runs.rerun()

    def action_resume(self) -> None:
        self._runs.resume()

    def action_toggle_auto_run(self) -> None:
        self._runs.toggle_auto_run()

    def action_replay(self) -> None:
        self._replay.replay_from_selected_task()

    def action_toggle_triggers(self) -> None:
        self._triggers.toggle()

    def action_toggle_trigger_pause(self) -> None:
        self._triggers.toggle_pause_of_selected()

    def action_fire_trigger(self) -> None:
        self._triggers.fire_selected()

    def action_step(self) -> None:
        self._debug.step()

    def action_toggle_breakpoint(self) -> None:
        self._debug.toggle_breakpoint()

    def action_debug_next(self) -> None:
        self._debug.next()

    def action_debug_continue(self) -> None:
        self._debug.continue_()

    def action_debug_skip(self) -> None:
        self._debug.skip()

    def action_debug_rerun(self) -> None:
        self._debug.rerun_last()

    def action_debug_shell(self) -> None:
        self._debug.shell()

    def action_evaluate(self) -> None:
        self._debug.ask_expression()

    def action_run_test_case(self) -> None:
        self._tests.run_case(self.main.query_one(TestsPane).table.selected)

    def action_run_all_tests(self) -> None:
        self._tests.run_all()

    def action_record_test(self) -> None:
        self._recorder.record_shown()

    def action_copy(self, kind: str | None = None) -> None:
        self._copier.copy(kind)

    def action_save_artifact(self) -> None:
        self._artifacts.save()

    def action_open_artifact(self, kind: str) -> None:
        self._artifacts.open_externally(kind)

    def action_show_pane(self, pane: str) -> None:
        self.main.focus_pane(pane)

    def action_follow_logs(self) -> None:
        log_view = self.main.query_one(LogView)
        self.main.focus_pane("logs")
        log_view.follow = not log_view.follow

    def action_search_logs(self) -> None:
        self.main.focus_pane("logs")
        self.main.query_one(LogView).action_start_search()

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif screen.focused is not None:
            screen.maximize(screen.focused)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit_workbench(self) -> None:
        self.exit(0)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)


def write_crash_report(crash_log: Path) -> str:
    """Append the current exception's traceback to ``crash_log``; where the details are."""
    import traceback

    try:
        crash_log.parent.mkdir(parents=True, exist_ok=True)
        with crash_log.open("a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{traceback.format_exc()}\n")
        return f"details in {crash_log}"
    except OSError:
        return "the details could not be written"


def run_workbench(path: str | Path = ".") -> int:
    """``roost [PATH]``: open the workbench; returns the exit status."""
    target = Path(path)
    if not target.exists():
        print(f"roost: {target}: no such file or folder", file=sys.stderr)
        return 2
    app = RoostApp(target)
    from tui.engine_port import RoostHome

    app.crash_log = RoostHome.from_environment().root / "workbench-errors.log"
    result = app.run()
    return int(result or 0)
