"""The command palette (``ctrl+p``): every workbench action, found by name, with its key.

Entries name the app's actions the way key bindings do (``"open_artifact('pager')"``), so a
palette entry and its key always run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.actions import parse
from textual.app import App, SystemCommand

from tui.screens.main import PANES

__all__ = ["OFFERED_WHEN_ENABLED", "PALETTE", "palette_commands"]

PALETTE: tuple[tuple[str, str, str], ...] = (
    ("Replay from task", "Replay the shown execution from the task selected in Tasks (P)",
     "replay"),
    ("Toggle triggers", "Run the flows' triggers, or stop them (T)", "toggle_triggers"),
    ("Pause or resume trigger", "Pause or resume the trigger selected in Triggers (p)",
     "toggle_trigger_pause"),
    ("Fire trigger now", "Fire the trigger selected in Triggers now (F)", "fire_trigger"),
    ("Run flow", "Run the selected flow (r)", "run"),
    ("Cancel execution", "Cancel the running execution (x)", "cancel"),
    ("Re-run", "Re-run the last execution with the same inputs (R)", "rerun"),
    ("Simulate trigger", "Run the flow as if one of its triggers fired: files, body or date (r)",
     "simulate"),
    ("Repeat simulation", "Simulate the flow's last trigger firing again (S)", "simulate_again"),
    ("Resume execution", "Resume a paused execution (u)", "resume"),
    ("Toggle auto-run", "Run the flow when its file is saved (a)", "toggle_auto_run"),
    ("Follow logs", "Follow the end of the logs (f)", "follow_logs"),
    ("Search logs", "Search the logs (/)", "search_logs"),
    ("Copy", "Copy what is selected: a value, a URI, a path, a log line (c)", "copy"),
    ("Copy output value", "Copy the value selected in Outputs", "copy('value')"),
    ("Copy artifact URI", "Copy the kestra:// URI of the file selected in Outputs", "copy('uri')"),
    ("Copy file path", "Copy the local path of the file selected in Files or Outputs", "copy('path')"),
    ("Copy execution id", "Copy the id of the execution shown", "copy('execution_id')"),
    ("Copy log line", "Copy the log line under the cursor", "copy('log_line')"),
    ("Save artifact", "Save the selected output file (e)", "save_artifact"),
    ("Open in $PAGER", "Open the selected file in $PAGER (o)", "open_artifact('pager')"),
    ("Open in $EDITOR", "Open the selected file in $EDITOR (O)", "open_artifact('editor')"),
    ("Maximise pane", "Maximise or restore the focused pane (z)", "toggle_maximize"),
    ("Help", "Show every key (?)", "help"),
    *((f"Show {title}", f"Go to the {title} pane ({number})", f"show_pane({pane!r})")
      for number, (pane, title) in enumerate(PANES, start=1)),
    ("Toggle breakpoint", "Pause before the task under the cursor (b)", "toggle_breakpoint"),
    ("Step through flow", "Run the flow pausing before every task (s)", "step"),
    ("Debug: next", "Run the paused task, pause before the next (n)", "debug_next"),
    ("Debug: continue", "Run on to the next breakpoint (c)", "debug_continue"),
    ("Debug: skip task", "Skip the paused task (k)", "debug_skip"),
    ("Debug: re-run last task", "Run the task that finished last again (.)", "debug_rerun"),
    ("Debug: shell", "Open $SHELL in the paused task's working directory (!)", "debug_shell"),
    ("Evaluate expression", "Evaluate a Pebble expression against the shown execution (:)",
     "evaluate"),
    ("Run test case", "Run the test case under the cursor in Tests (enter)", "run_test_case"),
    ("Run all tests", "Run every test case of the selected flow (A in Tests)", "run_all_tests"),
    ("Record as test", "Write a test suite from the shown finished execution, next to its flow",
     "record_test"),
)
"""(title, help, action) in palette order; the action as a key binding names it."""

OFFERED_WHEN_ENABLED = frozenset({"record_test"})
"""Actions the palette offers only while the app's ``check_action`` allows them."""


def palette_commands(app: App[Any]) -> Iterator[SystemCommand]:
    """The palette's workbench entries, each calling ``app``'s ``action_<name>``."""
    for title, help_text, action in PALETTE:
        _namespace, name, arguments = parse(action)
        if name in OFFERED_WHEN_ENABLED and not app.check_action(name, arguments):
            continue
        method: Callable[..., Any] = getattr(app, f"action_{name}")
        yield SystemCommand(title, help_text, partial(method, *arguments))
