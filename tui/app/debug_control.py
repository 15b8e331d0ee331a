"""Step-through debugging in the workbench: breakpoints (``b``), step mode (``s``), the commands
answered while the shown execution is paused before a task (``n c k . ! x``) and evaluation
(``:``). The Debug pane itself is :mod:`tui.app.debug_view`.

The keys that answer a pause are priority bindings that are active only while the shown
execution waits before a task on the main screen (:meth:`DebugControl.keys_active`, asked by
the app's ``check_action``); otherwise they fall through to the widgets (``n`` next match in
Logs, ``c`` copy line, ``k`` cursor up). The TUI answers a pause through the engine's
``ExecutionHandle`` only (``command``, ``evaluate``, ``debugger.set_breakpoints``); what it
shows comes from the engine's ``PauseInspection``, already masked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

from tui.app.host import report_error
from tui.engine_port import DebugCommand
from tui.screens.evaluate import EvaluateScreen
from tui.widgets.debug_pane import DebugPane, Evaluation

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.runs import Runs
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.engine_port import ExecutionHandle, PauseInspection
    from tui.models.run_model import ExecutionModel

__all__ = ["WHILE_PAUSED", "DebugControl"]

WHILE_PAUSED = frozenset({"debug_next", "debug_continue", "debug_skip", "debug_rerun",
                          "debug_shell", "cancel", "step"})
"""Actions whose keys depend on a pause (see ``key_active``): the pause keys mean something
else when nothing is paused; ``s`` steps when nothing is; ``x`` while something runs."""


class DebugControl:
    """Breakpoints, stepping, the commands that answer a pause, and evaluation."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 runs: Runs) -> None:
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._runs = runs
        self._last_expression = ""

    # -- state ---------------------------------------------------------------------------------

    def _live_handle(self, model: ExecutionModel | None) -> ExecutionHandle | None:
        session = self._workspace.session
        if model is None or session is None:
            return None
        handle = session.handles.get(model.id)
        return handle if handle is not None and not handle.done else None

    def _live_pause(self) -> PauseInspection | None:
        """The engine's pause of the shown execution (before a task), if it waits for a key."""
        handle = self._live_handle(self._selection.shown)
        return handle.paused if handle is not None else None

    def keys_active(self) -> bool:
        """Whether the pause keys answer: only on the main screen and while the shown execution
        waits. (Textual already keeps the keys an Input types, e.g. the log search's, away from
        priority bindings.)"""
        host = self._host
        if not host.screen_stack or host.screen is not host.screen_stack[0]:
            return False
        return self._live_pause() is not None

    def key_active(self, action: str) -> bool:
        """Whether the key of ``action`` (one of ``WHILE_PAUSED``) works now, so the footer
        shows only those that do: ``x`` while something runs; ``s`` unless the shown
        execution is paused before a task (``n`` steps on there); the pause keys then only."""
        if action == "cancel":
            return self._runs.can_cancel()
        if action == "step":
            return not self.keys_active()
        return self.keys_active()

    # -- stepping and breakpoints --------------------------------------------------------------

    def step(self) -> None:
        """``s``: step through the selected flow (a running one pauses before its next task;
        a paused one runs its task, as ``n`` does)."""
        shown = self._selection.shown
        handle = self._live_handle(shown)
        if handle is not None and shown is not None:
            if handle.paused is not None:
                self.answer(DebugCommand.NEXT)
                return
            handle.debugger.set_stepping(True)
            self._host.notify(f"Stepping: {shown.execution.flow_id} pauses before its next "
                              "task", timeout=3)
            return
        self._runs.run_selected(step=True)

    def toggle_breakpoint(self) -> None:
        """``b``: on the task under the cursor in Tasks, kept per flow; live runs of the flow
        follow at once."""
        selection = self._selection
        item = selection.selected_item
        key = selection.tree_flow_key
        if item is None or item.kind != "task" or not item.task_id or key is None:
            self._host.notify("Select a task in Tasks: b sets or clears its breakpoint",
                              severity="warning", timeout=3)
            return
        before = self._workspace.breakpoints.of(key)
        ids = self._workspace.breakpoints.toggle(key, item.task_id)
        session = self._workspace.session
        if session is not None:
            for execution_id, handle in session.handles.items():
                model = session.models.get(execution_id)
                if model is not None and model.flow_key == key and not handle.done:
                    # Only the user's own change: the run's other pauses (before a task that
                    # needs a mock) stay.
                    handle.debugger.set_breakpoints((handle.debugger.breakpoints - before) | ids)
        selection.refresh_tree(force=True)
        selection.refresh_debug()
        if item.task_id in ids:
            self._host.notify(f"● breakpoint before {item.task_id}", timeout=2, markup=False)
        else:
            self._host.notify(f"breakpoint before {item.task_id} removed", timeout=2,
                              markup=False)

    # -- commands while paused -----------------------------------------------------------------

    def answer(self, command: DebugCommand) -> PauseInspection | None:
        """Answer the shown execution's pause; the pause answered, or None (with a notice)."""
        handle = self._live_handle(self._selection.shown)
        pause = handle.paused if handle is not None else None
        if handle is None or pause is None or not handle.command(command):
            self._host.notify("Not paused before a task", severity="warning", timeout=2)
            return None
        return pause

    def next(self) -> None:
        self.answer(DebugCommand.NEXT)

    def continue_(self) -> None:
        if self.answer(DebugCommand.CONTINUE) is not None:
            self._host.notify("Continuing to the next breakpoint", timeout=2)

    def skip(self) -> None:
        pause = self.answer(DebugCommand.SKIP)
        if pause is not None:
            self._host.notify(f"Skipped {pause.task_id}", timeout=2, markup=False)

    def rerun_last(self) -> None:
        pause = self._live_pause()
        if pause is not None and not pause.previous_task_id:
            self._host.notify("No task has finished yet: nothing to re-run", severity="warning",
                              timeout=3)
            return
        if self.answer(DebugCommand.RERUN) is not None and pause is not None:
            self._host.notify(f"Re-running {pause.previous_task_id}…", timeout=2, markup=False)

    def shell(self) -> None:
        """``!``: $SHELL in the paused task's working directory, the workbench suspended."""
        host = self._host
        pause = self._live_pause()
        if pause is None:
            host.notify("Not paused before a task", severity="warning", timeout=2)
            return
        folder = pause.working_dir
        if not folder or not Path(folder).is_dir():
            host.notify(f"{pause.task_id} has no working directory yet (only tasks inside a "
                        "WorkingDirectory share one before they run)", severity="warning",
                        timeout=5, markup=False)
            return
        shell = os.environ.get("SHELL") or "/bin/sh"
        try:
            with host.suspend():
                print(f"roost: {shell} in {folder} (paused before {pause.task_id}); exit to "
                      "return to the workbench", file=sys.stderr)
                subprocess.run([shell], cwd=folder, check=False)
        except SuspendNotSupported:
            host.notify(f"A shell cannot open here (in a browser): open a terminal in {folder}",
                        severity="warning", timeout=8, markup=False)
            return
        except OSError as exc:
            host.notify(f"cannot start {shell}: {exc.strerror or exc}", severity="error",
                        markup=False)
            return
        self._selection.refresh_files()

    # -- evaluation ----------------------------------------------------------------------------

    def ask_expression(self) -> None:
        """``:``: a Pebble expression, evaluated against the shown execution."""
        model = self._selection.shown
        if model is None:
            self._host.notify("No execution shown: run the flow (r) or open one from History "
                              "(5)", severity="warning", timeout=3)
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
                self.evaluate(model, expression)

        self._host.push_screen(EvaluateScreen(f"{model.execution.flow_id} · {where}",
                                              self._last_expression), submitted)

    def evaluate(self, model: ExecutionModel, expression: str) -> None:
        """Evaluate against the live execution, else its history; the result goes to the Debug
        pane and a notification, an error as its message (never a traceback)."""
        from tui.engine_port import EvaluationError, evaluate_finished

        self._last_expression = expression
        host = self._host
        pane = host.main.query_one(DebugPane)
        handle = self._live_handle(model)
        where = model.execution.flow_id + (" · live" if handle is not None else
                                           f" · {model.execution.state.value}")
        try:
            if handle is not None:
                value = handle.evaluate(expression)
            else:
                session = self._workspace.session
                assert session is not None
                value = evaluate_finished(session.runtime, model.execution,
                                          list(model.task_runs.values()), model.flow, expression)
        except EvaluationError as exc:
            pane.add_evaluation(Evaluation(expression, exc.message, False, where))
            host.notify(exc.message, title=expression, severity="error", timeout=6, markup=False)
            return
        except Exception as exc:  # an engine bug: one line, never a traceback
            pane.add_evaluation(Evaluation(expression, f"cannot evaluate: {exc}", False, where))
            report_error(host, "evaluation failed", exc)
            return
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        pane.add_evaluation(Evaluation(expression, text, True, where))
        short = text if len(text) <= 400 else text[:400] + "…"
        host.notify(short, title=expression, timeout=6, markup=False)
