"""The workbench's core: state, selection, what every pane shows, and live updates.

It ties the parts together: the flow catalog, the session (runs and history, through events)
and the panes. Engine events are folded into models on a ~30 fps timer that runs only while
something runs, so an idle workbench costs nothing. Keys (:mod:`tui.app.commands`), history
(:mod:`tui.app.history_browser`) and hot reload (:mod:`tui.app.hot_reload`) extend it; :mod:`tui.app.roost_app`
puts them together.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import events, on
from textual.app import App
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from engine.core.errors import UsageError
from tui.models.artifacts import ArtifactError
from tui.models.flow_catalog import FlowCatalog, FlowEntry
from tui.screens.main import DetailTabs, MainScreen
from tui.widgets.banner import ErrorBanner
from tui.widgets.files_pane import ChangeWindow, FilesPane
from tui.widgets.flow_list import FlowList
from tui.models.log_store import LogStore, TaskRunFilter
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.source_pane import SourcePane
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_tree import TaskTree, TreeItem

if TYPE_CHECKING:
    from engine.core.config import RoostHome
    from engine.flow.model import Flow
    from engine.execution.runtime import RunOptions
    from tui.models.run_model import ExecutionModel
    from tui.app.session import WorkbenchSession

__all__ = ["WorkbenchCore"]

TICK_SECONDS = 1 / 30
UI_SWITCH_INTERVAL = 0.001
FLOOD_LINES_PER_TICK = 500
FLOOD_SYNC_SECONDS = 0.1
INPUT_PRIORITY_SECONDS = 0.1
COUNT_REFRESH_SECONDS = 0.5
SPINNER_FPS = 8


class WorkbenchCore(App[int]):
    """The workbench without its keys, history and hot reload. ``path``: a flow file or a
    folder of flows."""

    def __init__(self, path: Path | str = ".", *, home: RoostHome | None = None,
                 options: RunOptions | None = None, watch: bool = True,
                 environ: dict[str, str] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self._home = home
        self._run_options = options
        self._environ = environ
        self.watch_enabled = watch
        self.session: WorkbenchSession | None = None
        self.catalog: FlowCatalog | None = None
        self.selected_path: Path | None = None
        self.shown: ExecutionModel | None = None
        self.selected_item: TreeItem | None = None
        self.latest: dict[str, str] = {}
        self.last_inputs: dict[str, dict[str, Any]] = {}
        self.auto_run = False
        self.reload_count = 0
        """Hot reloads applied (tests and benchmarks wait on it)."""
        self._ticker: Timer | None = None
        self._spinner: Timer | None = None
        self._stop_watch = threading.Event()
        self._next_log_sync = 0.0
        self._paused_notified: dict[str, object] = {}
        self._subtitle_state: object = None
        self._subtitle_due = 0.0
        self._shown_tree_signature: object = None
        self._looked_up_history: set[str] = set()
        self._empty_store = LogStore()
        self.startup_error: str | None = None
        self.crash_log: Path | None = None
        """Where an internal error's traceback goes (set by ``run_workbench``)."""
        self.crash_message: str | None = None

    # -- start and stop ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self._resolve_uri)

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def on_mount(self) -> None:
        self.theme = "tokyo-night"
        # The UI thread competes for the GIL with the engine's threads (a task flooding its
        # output keeps them busy): a short switch interval lets a key press in within ~1 ms
        # instead of 5 ms per wait, at a small cost in the engine's throughput.
        sys.setswitchinterval(UI_SWITCH_INTERVAL)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and self.session is not None:
            # The user acts: flooding tasks wait until the answering frame is drawn.
            inbox = self.session.inbox
            inbox.hold(INPUT_PRIORITY_SECONDS)
            self.call_after_refresh(inbox.release)
        await super().on_event(event)

    @on(MainScreen.Ready)
    def _main_ready(self) -> None:
        self._start_session()
        self._adapt_layout()
        main = self.main
        main.query_one(LogView).set_store(self._empty_store)
        main.query_one(FlowList).focus()
        self._update_status()
        if self.watch_enabled and self.catalog is not None:
            self._watch_flows(self.catalog.folder, self._stop_watch)

    def _start_session(self) -> None:
        from tui.app.session import WorkbenchSession

        try:
            self.session = WorkbenchSession(self.path, home=self._home, options=self._run_options,
                                            environ=self._environ)
            config = self.session.config
        except UsageError as exc:  # a broken roost.toml: say so, keep browsing flows
            self.startup_error = str(exc)
            config = None
        except Exception as exc:
            self.startup_error = f"cannot open the Roost home: {exc}"
            config = None
        self.catalog = FlowCatalog(self.path, config.plugin_defaults if config else ())
        entries = self.catalog.scan()
        flow_list = self.main.query_one(FlowList)
        flow_list.set_entries(entries, self._flow_states())
        if not entries:
            where = self.path if self.path.exists() else f"{self.path} (does not exist)"
            self.main.query_one(ErrorBanner).show_message(
                f"no flows (*.yml, *.yaml) under {where}")
        if self.startup_error:
            self.main.query_one(ErrorBanner).show_message(self.startup_error)

    def on_unmount(self) -> None:
        self._stop_watch.set()
        if self.session is not None:
            self.session.close()
        self._empty_store.close()

    def on_resize(self) -> None:
        self._adapt_layout()

    def _adapt_layout(self) -> None:
        width, height = self.size
        main = self.main
        main.set_class(width < 110, "-narrow")
        main.set_class(height < 32, "-short")

    # -- selection -----------------------------------------------------------------------------

    @property
    def selected_entry(self) -> FlowEntry | None:
        if self.catalog is None or self.selected_path is None:
            return None
        return self.catalog.get(self.selected_path)

    @on(FlowList.FlowSelected)
    def _flow_selected(self, event: FlowList.FlowSelected) -> None:
        self.select_flow(event.path)

    @on(FlowList.FlowOpened)
    def _flow_opened(self, event: FlowList.FlowOpened) -> None:
        self.select_flow(event.path)
        self.main.focus_pane("tasks")

    def select_flow(self, path: Path) -> None:
        """Show a flow: its tree merged with its latest execution, its source and errors."""
        changed = path != self.selected_path
        self.selected_path = path
        entry = self.selected_entry
        model = None
        if entry is not None and self.session is not None:
            execution_id = self.latest.get(entry.key)
            model = self.session.models.get(execution_id) if execution_id else None
            if model is None and entry.flow is not None and entry.key not in self._looked_up_history:
                self._looked_up_history.add(entry.key)
                self._load_latest_from_history(entry.key, entry.flow)
        if changed:
            self.selected_item = None
        self.show_execution(model)
        self._refresh_flow_panes()
        self._refresh_triggers()

    def show_execution(self, model: ExecutionModel | None) -> None:
        """Make ``model`` the execution every pane shows."""
        main = self.main
        self.shown = model
        log_view = main.query_one(LogView)
        log_view.set_store(model.logs if model is not None else self._empty_store)
        self._refresh_tree()
        self._apply_item_selection()
        main.query_one(OutputsPane).show(model)
        self._update_status()
        self._update_detail_title()

    def _refresh_flow_panes(self) -> None:
        entry = self.selected_entry
        main = self.main
        banner = main.query_one(ErrorBanner)
        source = main.query_one(SourcePane)
        if entry is None:
            source.show("", [])
            if self.catalog is not None and self.catalog.entries:
                banner.clear()
            return
        if entry.errors:
            banner.show_errors(entry.errors, stale=entry.stale)
        elif not self.startup_error:
            banner.clear()
        marked = self.selected_item.line if self.selected_item is not None else None
        source.show(entry.text, entry.errors, str(entry.path), marked,
                    scroll_to_error=bool(entry.errors))

    def _refresh_tree(self, *, force: bool = False) -> None:
        entry = self.selected_entry
        tree = self.main.query_one(TaskTree)
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
                  frame=self._frame(), stale=bool(entry and entry.stale))

    @on(TaskTree.TaskSelected)
    def _task_selected(self, event: TaskTree.TaskSelected) -> None:
        self.selected_item = event.item
        self._apply_item_selection()
        entry = self.selected_entry
        if entry is not None:
            self.main.query_one(SourcePane).show(entry.text, entry.errors, str(entry.path),
                                                 event.item.line)

    @on(TaskTree.TaskOpened)
    def _task_opened(self, event: TaskTree.TaskOpened) -> None:
        self.main.focus_pane("logs")

    def _apply_item_selection(self) -> None:
        """Point Logs, Outputs, Files and Changes at the selected task run (or the whole
        execution)."""
        main = self.main
        item = self.selected_item
        self._apply_log_filter()
        if item is not None and item.task_run_id:
            main.query_one(OutputsPane).select_task_run(item.task_run_id)
        self._refresh_files()
        self._refresh_changes()
        self._update_detail_title()

    def _log_filter(self) -> TaskRunFilter:
        """The task runs whose lines Logs shows: the selected task's run and its descendants
        (a WorkingDirectory's children, a ForEach's iterations), or everything."""
        item = self.selected_item
        model = self.shown
        if item is None or model is None or item.kind in ("flow", "branch"):
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

    def _apply_log_filter(self) -> None:
        log_view = self.main.query_one(LogView)
        wanted = self._log_filter()
        if wanted != log_view.task_run_filter:
            log_view.set_filter(wanted, log_view.min_level)

    def _refresh_files(self) -> None:
        files = self.main.query_one(FilesPane)
        model = self.shown
        session = self.session
        if model is None or session is None:
            files.show(None, "no execution yet: press r to run the flow")
            return
        item = self.selected_item
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
            reason = ("no working directory yet" if model.live else
                      "no working directory kept for this execution (Roost keeps the last "
                      "execution's per flow; --keep-workdir keeps all)")
            files.show(None, reason)
            return
        files.show(root, "", window)

    # -- live updates --------------------------------------------------------------------------

    def _ensure_ticking(self) -> None:
        if self._ticker is None:
            self._ticker = self.set_interval(TICK_SECONDS, self._tick, name="engine-events")
        else:
            self._ticker.resume()

    def _frame(self) -> int:
        return int(time.monotonic() * SPINNER_FPS)

    def _tick(self) -> None:
        """Fold engine events into models and repaint what changed (UI thread, ~30 fps)."""
        session = self.session
        if session is None:
            return
        try:
            touched = session.fold_events()
            shown = self.shown
            main = self.main
            if shown is not None:
                self._sync_logs(main.query_one(LogView))
                if shown.id in touched or shown.live:
                    self._refresh_tree()
                if shown.id in touched:
                    self._apply_log_filter()
                    main.query_one(OutputsPane).show(shown)
                    if main.query_one(DetailTabs).active == "files":
                        self._refresh_files()
                    if main.query_one(DetailTabs).active == "changes":
                        self._refresh_changes()
            if touched:
                main.query_one(FlowList).set_states(self._flow_states())
            for execution_id in touched:
                model = session.models.get(execution_id)
                if model is None:
                    continue
                if model.paused is not None and model.paused is not self._paused_notified.get(model.id):
                    self._paused_notified[model.id] = model.paused
                    if model.paused.inspection is not None:  # a breakpoint or a step
                        self._paused_before_task(model)
                    else:
                        self.notify(f"⏸ {model.execution.flow_id} paused at {model.paused.task_id}: "
                                    f"u resumes, x cancels", severity="warning", timeout=6)
                if not model.live and model.finished:
                    self._execution_finished(model)
            self._update_status()
            self._update_detail_title(from_tick=True)
            # Pause only once every model is frozen: an execution can end between the fold
            # above and this check, and its model must still be folded one last time.
            idle = not session.inbox.pending and not any(m.live for m in session.models.values())
            if idle and self._ticker is not None:
                self._ticker.pause()
        except Exception as exc:  # never a traceback on screen: report and keep going
            self._report_error("updating the screen failed", exc)

    def _sync_logs(self, log_view: LogView) -> None:
        """Take in new log lines: every tick normally, ~10 times a second during a flood, so
        key presses keep the frames for themselves when a task prints 100k lines a second."""
        now = time.monotonic()
        if now < self._next_log_sync:
            return
        before = len(log_view.view)
        log_view.sync()
        added = len(log_view.view) - before
        self._next_log_sync = now + (FLOOD_SYNC_SECONDS if added > FLOOD_LINES_PER_TICK else 0)

    def _execution_finished(self, model: ExecutionModel) -> None:
        if model.announced:
            return
        model.announced = True
        state = model.execution.state.value
        seconds = model.duration_seconds()
        from tui.models.formatting import STATE_SYMBOLS, format_duration

        severity: SeverityLevel = "information" if state in ("SUCCESS", "WARNING") else "error"
        self.notify(f"{STATE_SYMBOLS.get(state, '')} {model.execution.flow_id} {state} in "
                    f"{format_duration(seconds)}", severity=severity, timeout=4)
        self.main.query_one(FlowList).set_states(self._flow_states())
        self._refresh_history()
        if model is self.shown:
            self._refresh_tree(force=True)
            self.main.query_one(OutputsPane).show(model, force=True)
            self._refresh_files()
            self._update_detail_title()  # the final line count: the ticks stop after this one

    def _flow_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        if self.session is None:
            return states
        for key, execution_id in self.latest.items():
            model = self.session.models.get(execution_id)
            if model is not None:
                states[key] = model.execution.state.value
        return states

    def _update_status(self) -> None:
        """The top line. It shows no ticking clock or spinner (the tree root has them): a
        change there would repaint the screen's full width each frame, the tree's rows too."""
        status = self.main.query_one(StatusBar)
        model = self.shown
        running = len(self.session.running()) if self.session is not None else 0
        where = str(self.path)
        flows = len(self.catalog.entries) if self.catalog is not None else 0
        if model is None:
            status.set_info(where=where, flows=flows, execution=None, state=None, seconds=None,
                            auto_run=self.auto_run, running=running,
                            triggers=self._triggers_running())
            return
        finished = model.execution.state.is_terminal
        status.set_info(where=where, flows=flows, execution=model.execution.flow_id,
                        state=model.execution.state.value,
                        seconds=model.duration_seconds() if finished else None,
                        auto_run=self.auto_run, running=running,
                        triggers=self._triggers_running())

    def _update_detail_title(self, *, from_tick: bool = False) -> None:
        """Pane title (what the panes show) and log status; a border change repaints the whole
        right-hand pane, so they are set only when they change, the line count at most
        ``COUNT_REFRESH_SECONDS`` apart while lines stream in."""
        main = self.main
        detail = main.query_one(DetailTabs)
        item = self.selected_item
        model = self.shown
        if model is None:
            scope = "no execution"
        elif item is not None and item.kind == "iter":
            scope = f"{item.key[1]} [{item.key[-1][-1]}]"  # type: ignore[index]
        elif item is None or item.kind != "task":
            scope = f"execution {model.id[:8]}"
        else:
            run = model.task_run(item.task_run_id)
            scope = item.task_id or ""
            if run is not None and run.value is not None:
                scope += f" [{run.value}]"
            if run is None:
                scope += " · not run"
        title = escape(scope)
        if detail.border_title != title:
            detail.border_title = title
        log_view = main.query_one(LogView)
        level = f"≥{log_view.min_level}" if log_view.min_level else "all levels"
        follow = "following" if log_view.follow else "paused (f to follow)"
        count = len(log_view.view)
        now = time.monotonic()
        state = (level, follow, count == 0)
        if from_tick and state == self._subtitle_state and now < self._subtitle_due:
            return
        subtitle = f"{count:,} line{'s' if count != 1 else ''} · {level} · {follow}"
        if detail.border_subtitle != subtitle:
            detail.border_subtitle = subtitle
            self._subtitle_state = state
            self._subtitle_due = now + COUNT_REFRESH_SECONDS
        hint = main.query_one("#logs-hint", Static)
        message = self._logs_hint(model, item, len(log_view.view))
        hint.set_class(bool(message), "-visible")
        if message and str(hint.content) != message:
            hint.update(message)

    def _logs_hint(self, model: ExecutionModel | None, item: TreeItem | None, lines: int) -> str:
        if lines:
            return ""
        entry = self.selected_entry
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

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        self._update_detail_title()

    def _fatal_error(self) -> None:
        """A bug that escaped every handler: the details go to a file, the user gets one line
        (never a traceback on screen). Tests and ``textual run --dev`` keep Textual's report."""
        if self.crash_log is None:
            super()._fatal_error()
            return
        import traceback

        try:
            self.crash_log.parent.mkdir(parents=True, exist_ok=True)
            with self.crash_log.open("a", encoding="utf-8") as log:
                log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{traceback.format_exc()}\n")
            where = f"details in {self.crash_log}"
        except OSError:
            where = "the details could not be written"
        self.crash_message = (
            f"roost: the workbench stopped on an internal error: {self._exception!r} ({where})")
        self._exit_renderables.append(self.crash_message)
        self._close_messages_no_wait()

    # -- runs and files -------------------------------------------------------------------------

    def start_run(self, flow: Flow, inputs: dict[str, Any], *,
                  step: bool = False) -> ExecutionModel | None:
        """Start ``flow`` (``step``: pausing before every task); bad inputs and engine errors
        become notifications."""
        from engine.flow.inputs import InputError

        session = self.session
        if session is None:
            self.notify(self.startup_error or "the engine is not available", severity="error")
            return None
        try:
            model = session.start(flow, inputs, options=self._run_options_for(flow, step=step))
        except InputError as exc:
            self.notify(f"{flow.id}: {exc.message}", severity="error", timeout=6)
            return None
        except Exception as exc:
            self._report_error(f"could not start {flow.id}", exc)
            return None
        self.latest[flow.key] = model.id
        self.last_inputs[flow.key] = dict(inputs)
        self._ensure_ticking()
        entry = self.selected_entry
        if entry is not None and entry.key == flow.key:
            self.show_execution(model)
            if self.main.query_one(DetailTabs).active in ("source", "history"):
                self.main.query_one(DetailTabs).active = "logs"
        self.main.query_one(FlowList).set_states(self._flow_states())
        return model

    def _resolve_uri(self, uri: str) -> Path:
        if self.session is None:
            raise ArtifactError("the engine is not available")
        return self.session.resolve_uri(uri)

    # -- hooks the mixins fill in ------------------------------------------------------------------

    def _watch_flows(self, folder: Path, stop: threading.Event) -> None:
        """Start watching PATH (tui.app.hot_reload)."""

    def _refresh_history(self) -> None:
        """Re-read the history list (tui.app.history_browser)."""

    def _load_latest_from_history(self, flow_key: str, flow: Flow) -> None:
        """Show a flow's last execution when it is first selected (tui.app.history_browser)."""

    def _refresh_triggers(self) -> None:
        """Show the selected flow's triggers (tui.app.trigger_control)."""

    def _refresh_changes(self) -> None:
        """Show what the selected task changed in its working directory (tui.app.changes_control)."""

    def _triggers_running(self) -> bool:
        """Whether the user turned triggers on (tui.app.trigger_control)."""
        return False

    def _flows_reloaded(self) -> None:
        """Flow files changed on disk: the triggers follow (tui.app.trigger_control)."""

    def _run_options_for(self, flow: Flow, *, step: bool = False) -> RunOptions | None:
        """The options of a run started here, None for the session's (tui.app.debug_control)."""
        return None

    def _paused_before_task(self, model: ExecutionModel) -> None:
        """An execution paused before a task at a breakpoint or a step (tui.app.debug_control)."""

    # -- errors --------------------------------------------------------------------------------

    def _report_error(self, what: str, exc: BaseException) -> None:
        self.notify(f"{what}: {exc}", severity="error", timeout=8)
