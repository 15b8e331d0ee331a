"""Step-through debugging in the workbench: breakpoints (``b``), step mode (``n``), the commands
answered while the shown execution is paused before a task (``n c k . ! x``), evaluation
(``:``) and the Debug pane.

The keys that answer a pause are priority bindings that are active only while the shown
execution waits before a task on the main screen (``check_action``); otherwise they fall
through to the widgets (``n`` next match in Logs, ``c`` copy line, ``k`` cursor up). The TUI
answers a pause through :class:`~engine.execution.executor.ExecutionHandle` only (``command``,
``evaluate``, ``debugger.set_breakpoints``); what it shows comes from the engine's
:class:`~engine.core.debug.PauseInspection`, already masked.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import SuspendNotSupported, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from engine.core.debug import DebugCommand
from tui.models.breakpoints import BreakpointStore
from tui.app.commands import CommandsMixin
from tui.screens.evaluate import EvaluateScreen
from tui.screens.main import DetailTabs
from tui.widgets.debug_pane import DebugPane, Evaluation
from tui.widgets.files_pane import FilesPane
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_tree import TaskTree

if TYPE_CHECKING:
    from engine.core.debug import PauseInspection
    from engine.execution.executor import ExecutionHandle
    from engine.flow.model import Flow
    from engine.execution.runtime import RunOptions
    from tui.models.run_model import ExecutionModel

__all__ = ["DebugControlMixin", "paused_hint"]

WHILE_PAUSED = frozenset({"debug_next", "debug_continue", "debug_skip", "debug_rerun",
                          "debug_shell"})
"""Actions whose keys mean something else when nothing is paused (see ``check_action``)."""


def paused_hint(task_id: str) -> str:
    """The status bar while paused: where, and the keys that answer."""
    return (f"⏸ {task_id} · n next · c continue · k skip · . re-run · ! shell · : eval · "
            "x abort")


class DebugControlMixin(CommandsMixin):
    """Breakpoints, stepping and evaluation (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "debug_next", "Next", priority=True),
        Binding("c", "debug_continue", "Continue", priority=True),
        Binding("k", "debug_skip", "Skip", priority=True),
        Binding("full_stop", "debug_rerun", "Re-run last", priority=True),
        Binding("exclamation_mark", "debug_shell", "Shell", priority=True),
        Binding("n", "step", "Step", show=False),
        Binding("b", "toggle_breakpoint", "Breakpoint", show=False),
        Binding("colon", "evaluate", "Evaluate", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._breakpoint_store: BreakpointStore | None = None
        self._last_expression = ""
        self._keys_pause: object = None

    # -- state ---------------------------------------------------------------------------------

    @property
    def breakpoints(self) -> BreakpointStore:
        """Breakpoints per flow, kept in the history (in memory without a session)."""
        if self._breakpoint_store is None:
            history = self.session.runtime.history if self.session is not None else None
            self._breakpoint_store = BreakpointStore(history)
        return self._breakpoint_store

    def _live_handle(self, model: ExecutionModel | None) -> ExecutionHandle | None:
        if model is None or self.session is None:
            return None
        handle = self.session.handles.get(model.id)
        return handle if handle is not None and not handle.done else None

    def _live_pause(self) -> PauseInspection | None:
        """The engine's pause of the shown execution (before a task), if it waits for a key."""
        handle = self._live_handle(self.shown)
        return handle.paused if handle is not None else None

    def _shown_pause(self) -> PauseInspection | None:
        """The pause the screen shows (folded from events) for the shown execution."""
        model = self.shown
        if model is None or model.paused is None:
            return None
        return model.paused.inspection

    def _tree_flow_key(self) -> str | None:
        entry = self.selected_entry
        if entry is not None:
            return entry.key
        return self.shown.flow_key if self.shown is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WHILE_PAUSED:
            return self._debug_keys_active()
        return super().check_action(action, parameters)

    def _debug_keys_active(self) -> bool:
        """Only on the main screen and while the shown execution waits. (Textual already keeps
        the keys an Input types, e.g. the log search's, away from priority bindings.)"""
        if not self.screen_stack or self.screen is not self.screen_stack[0]:
            return False
        return self._live_pause() is not None

    # -- runs ----------------------------------------------------------------------------------

    def _run_options_for(self, flow: Flow, *, step: bool = False) -> RunOptions | None:
        session = self.session
        if session is None:
            return None
        base = session.options
        return dataclasses.replace(
            base, breakpoints=frozenset(base.breakpoints) | self.breakpoints.of(flow.key),
            step=step or base.step)

    def action_step(self) -> None:
        """``n`` with nothing paused: step through the selected flow (a running one pauses
        before its next task)."""
        handle = self._live_handle(self.shown)
        if handle is not None:
            if handle.paused is not None:
                self.action_debug_next()
                return
            handle.debugger.set_stepping(True)
            assert self.shown is not None
            self.notify(f"Stepping: {self.shown.execution.flow_id} pauses before its next task",
                        timeout=3)
            return
        self.action_run(step=True)

    # -- breakpoints ---------------------------------------------------------------------------

    def action_toggle_breakpoint(self) -> None:
        item = self.selected_item
        key = self._tree_flow_key()
        if item is None or item.kind != "task" or not item.task_id or key is None:
            self.notify("Select a task in Tasks: b sets or clears its breakpoint",
                        severity="warning", timeout=3)
            return
        ids = self.breakpoints.toggle(key, item.task_id)
        session = self.session
        if session is not None:
            for execution_id, handle in session.handles.items():
                model = session.models.get(execution_id)
                if model is not None and model.flow_key == key and not handle.done:
                    handle.debugger.set_breakpoints(ids)
        self._refresh_tree(force=True)
        self._sync_debug()
        if item.task_id in ids:
            self.notify(f"● breakpoint before {item.task_id}", timeout=2, markup=False)
        else:
            self.notify(f"breakpoint before {item.task_id} removed", timeout=2, markup=False)

    def _refresh_tree(self, *, force: bool = False) -> None:
        tree = self.main.query_one(TaskTree)
        key = self._tree_flow_key()
        marks = self.breakpoints.of(key) if key is not None else frozenset()
        if tree.breakpoints != marks:
            tree.breakpoints = marks
            force = True
        super()._refresh_tree(force=force)

    # -- the pause -----------------------------------------------------------------------------

    def _paused_before_task(self, model: ExecutionModel) -> None:
        assert model.paused is not None and model.paused.inspection is not None
        pause = model.paused.inspection
        self.notify(f"⏸ {model.execution.flow_id} paused before {pause.task_id} "
                    f"({pause.reason}): n next · c continue · k skip · x abort",
                    severity="warning", timeout=4, markup=False)
        if model is self.shown:
            detail = self.main.query_one(DetailTabs)
            if detail.active != "debug":
                detail.active = "debug"
            self._select_paused_task(model, pause)
        self._sync_debug()

    def _select_paused_task(self, model: ExecutionModel, pause: PauseInspection) -> None:
        """Put the tree cursor on the paused task (the Files pane follows it)."""
        run = model.task_run(pause.task_run_id)
        value_path = tuple(run.value_path) if run is not None else ()
        tree = self.main.query_one(TaskTree)
        node = tree.node_for(("task", pause.task_id, value_path))
        if node is None or node.data is None:
            return
        if tree.cursor_node is not node:
            tree.move_cursor(node)
        self.selected_item = node.data
        self._apply_item_selection()

    def _refresh_files(self) -> None:
        pause = self._shown_pause()
        item = self.selected_item
        if (pause is not None and pause.working_dir and item is not None
                and item.task_run_id == pause.task_run_id and Path(pause.working_dir).is_dir()):
            self.main.query_one(FilesPane).show(Path(pause.working_dir))
            return
        super()._refresh_files()

    def _sync_debug(self) -> None:
        """The Debug pane and the keys follow the shown execution's pause (cheap when unchanged)."""
        pane = self.main.query_one(DebugPane)
        pause = self._shown_pause()
        if pause is not None:
            pane.show_pause(pause)
        else:
            entry = self.selected_entry
            key = self._tree_flow_key()
            marks = self.breakpoints.of(key) if key is not None else frozenset()
            pane.show_idle(entry.flow_id if entry is not None else "", marks)
        if pause is not self._keys_pause:
            self._keys_pause = pause
            self.refresh_bindings()

    def _tick(self) -> None:
        super()._tick()
        try:
            self._sync_debug()
        except Exception as exc:
            self._report_error("updating the Debug pane failed", exc)

    def show_execution(self, model: ExecutionModel | None) -> None:
        super().show_execution(model)
        self._sync_debug()

    def _update_status(self) -> None:
        super()._update_status()
        pause = self._shown_pause()
        self.main.query_one(StatusBar).set_info(
            debug=paused_hint(pause.task_id) if pause is not None else None)

    # -- commands while paused -------------------------------------------------------------------

    def _send(self, command: DebugCommand) -> PauseInspection | None:
        """Answer the shown execution's pause; the pause answered, or None (with a notice)."""
        handle = self._live_handle(self.shown)
        pause = handle.paused if handle is not None else None
        if handle is None or pause is None or not handle.command(command):
            self.notify("Not paused before a task", severity="warning", timeout=2)
            return None
        return pause

    def action_debug_next(self) -> None:
        self._send(DebugCommand.NEXT)

    def action_debug_continue(self) -> None:
        if self._send(DebugCommand.CONTINUE) is not None:
            self.notify("Continuing to the next breakpoint", timeout=2)

    def action_debug_skip(self) -> None:
        pause = self._send(DebugCommand.SKIP)
        if pause is not None:
            self.notify(f"Skipped {pause.task_id}", timeout=2, markup=False)

    def action_debug_rerun(self) -> None:
        pause = self._live_pause()
        if pause is not None and not pause.previous_task_id:
            self.notify("No task has finished yet: nothing to re-run", severity="warning",
                        timeout=3)
            return
        if self._send(DebugCommand.RERUN) is not None and pause is not None:
            self.notify(f"Re-running {pause.previous_task_id}…", timeout=2, markup=False)

    def action_debug_shell(self) -> None:
        pause = self._live_pause()
        if pause is None:
            self.notify("Not paused before a task", severity="warning", timeout=2)
            return
        folder = pause.working_dir
        if not folder or not Path(folder).is_dir():
            self.notify(f"{pause.task_id} has no working directory yet (only tasks inside a "
                        "WorkingDirectory share one before they run)", severity="warning",
                        timeout=5, markup=False)
            return
        shell = os.environ.get("SHELL") or "/bin/sh"
        try:
            with self.suspend():
                print(f"roost: {shell} in {folder} (paused before {pause.task_id}); exit to "
                      "return to the workbench", file=sys.stderr)
                subprocess.run([shell], cwd=folder, check=False)
        except SuspendNotSupported:
            self.notify(f"A shell cannot open here (in a browser): open a terminal in {folder}",
                        severity="warning", timeout=8, markup=False)
            return
        except OSError as exc:
            self.notify(f"cannot start {shell}: {exc.strerror or exc}", severity="error",
                        markup=False)
            return
        self._refresh_files()

    # -- evaluation ------------------------------------------------------------------------------

    def action_evaluate(self) -> None:
        model = self.shown
        if model is None:
            self.notify("No execution shown: run the flow (r) or open one from History (5)",
                        severity="warning", timeout=3)
            return
        pause = self._live_pause()
        if pause is not None:
            where = f"paused before {pause.task_id}"
        elif self._live_handle(model) is not None:
            where = "while it runs"
        else:
            where = f"execution {model.id[:8]} ({model.execution.state.value})"

        def submitted(expression: str | None) -> None:
            if expression is not None and expression.strip():
                self.evaluate_expression(model, expression)

        self.push_screen(EvaluateScreen(f"{model.execution.flow_id} · {where}",
                                        self._last_expression), submitted)

    def evaluate_expression(self, model: ExecutionModel, expression: str) -> None:
        """Evaluate against the live execution, else its history; the result goes to the Debug
        pane and a notification, an error as its message (never a traceback)."""
        from engine.execution.expression_eval import EvaluationError, evaluate_finished

        self._last_expression = expression
        pane = self.main.query_one(DebugPane)
        handle = self._live_handle(model)
        where = model.execution.flow_id + (" · live" if handle is not None else
                                           f" · {model.execution.state.value}")
        try:
            if handle is not None:
                value = handle.evaluate(expression)
            else:
                assert self.session is not None
                value = evaluate_finished(self.session.runtime, model.execution,
                                          list(model.task_runs.values()), model.flow, expression)
        except EvaluationError as exc:
            pane.add_evaluation(Evaluation(expression, exc.message, False, where))
            self.notify(exc.message, title=expression, severity="error", timeout=6, markup=False)
            return
        except Exception as exc:  # an engine bug: one line, never a traceback
            pane.add_evaluation(Evaluation(expression, f"cannot evaluate: {exc}", False, where))
            self._report_error("evaluation failed", exc)
            return
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        pane.add_evaluation(Evaluation(expression, text, True, where))
        short = text if len(text) <= 400 else text[:400] + "…"
        self.notify(short, title=expression, timeout=6, markup=False)

    # -- palette ---------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Toggle breakpoint", "Pause before the task under the cursor (b)",
                            self.action_toggle_breakpoint)
        yield SystemCommand("Step through flow", "Run the flow pausing before every task (n)",
                            self.action_step)
        yield SystemCommand("Debug: next", "Run the paused task, pause before the next (n)",
                            self.action_debug_next)
        yield SystemCommand("Debug: continue", "Run on to the next breakpoint (c)",
                            self.action_debug_continue)
        yield SystemCommand("Debug: skip task", "Skip the paused task (k)",
                            self.action_debug_skip)
        yield SystemCommand("Debug: re-run last task", "Run the task that finished last again (.)",
                            self.action_debug_rerun)
        yield SystemCommand("Debug: shell", "Open $SHELL in the paused task's working directory (!)",
                            self.action_debug_shell)
        yield SystemCommand("Evaluate expression",
                            "Evaluate a Pebble expression against the shown execution (:)",
                            self.action_evaluate)
