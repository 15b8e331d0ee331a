"""``?``: every key of the workbench, grouped by pane."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KEY_GROUPS", "HelpScreen"]

KEY_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Runs", [
        ("r", "run (inputs form when it has inputs; or simulate a trigger)"),
        ("x", "cancel the running execution"),
        ("R / S", "re-run with the same inputs / repeat the last trigger simulation"),
        ("a", "toggle auto-run when the flow file is saved"),
        ("u", "resume an execution paused by a Pause task"),
        ("P", "replay from the task selected in Tasks: reuse what ran before it, restore its "
              "working directory (the flow file as it is now)"),
    ]),
    ("Panes", [
        ("tab / shift+tab", "next / previous pane"),
        ("1 … 9", "Logs · Outputs · Files · Source · History · Triggers · Debug · Changes · "
                  "Tests"),
        ("z", "maximise the focused pane (again to restore)"),
        ("enter", "open: task logs, artifact preview, execution from history"),
        ("m, =", "History: mark two executions, compare them (or a replay with its original)"),
        ("ctrl+p", "command palette (every action is there)"),
        ("?", "this help"),
        ("q", "quit (running executions are cancelled)"),
    ]),
    ("Logs", [
        ("f", "follow the end (stops when you scroll up, resumes at the bottom)"),
        ("/", "search; n / N next / previous match"),
        ("l", "level filter: all, ≥DEBUG, ≥INFO, ≥WARN, ≥ERROR"),
        ("t / w", "timestamps on / off · wrap long lines on / off"),
        ("c", "copy the line under the cursor; mouse-select + ctrl+c copies a selection"),
        ("home / end", "first line / last line (and follow)"),
    ]),
    ("Outputs and files", [
        ("enter", "preview full screen"),
        ("e", "save the artifact to a path"),
        ("o / O", "open it in $PAGER / $EDITOR"),
        ("c", "copy the value or URI (Outputs), path (Files), id (History): OSC 52, works over SSH"),
    ]),
    ("Source", [("n / N", "next / previous validation error")]),
    ("Debugging", [
        ("b", "breakpoint on / off before the task under the cursor (Tasks; kept per flow)"),
        ("s", "run the selected flow step by step (a running one pauses before its next task)"),
        ("n (paused)", "next: run this task, pause before the next one"),
        ("c (paused)", "continue to the next breakpoint"),
        ("k (paused)", "skip this task (SKIPPED)"),
        (". (paused)", "re-run the task that finished last (after editing it)"),
        ("! (paused)", "$SHELL in the paused task's working directory"),
        ("x (paused)", "abort the execution"),
        (":", "evaluate a Pebble expression against the shown execution (live or finished)"),
    ]),
    ("Triggers", [
        ("T", "run the flows' triggers / stop them (off when the workbench opens)"),
        ("p", "pause / resume the trigger under the cursor (remembered)"),
        ("F", "fire it now (a poll, a schedule's date now, an empty webhook call)"),
    ]),
    ("Tests", [
        ("enter", "run the test case under the cursor, live (in Tasks, ◇ marks a fixture's task: "
                  "mocked, not run)"),
        ("A", "run every test case of the selected flow's suites, one after the other"),
        ("g", "go to the task of the case's failed assertion in Tasks"),
        ("ctrl+p", "Record as test: a suite from the shown finished execution, next to the flow"),
    ]),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 95%; height: auto; max-height: 90%;
                                  border: round $accent; background: $surface; padding: 0 2; }
    HelpScreen #help-title { padding-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold #5fafff", no_wrap=True)
        table.add_column()
        for group, keys in KEY_GROUPS:
            table.add_row(Text(group, style="bold underline"), "")
            for key, description in keys:
                table.add_row(key, description)
            table.add_row("", "")
        with VerticalScroll():
            yield Static(Text.assemble(("Roost keys", "bold"), ("   esc closes", "dim")),
                         id="help-title")
            yield Static(table, id="help-keys")
