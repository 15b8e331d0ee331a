"""Fixes from a newcomer's first session with the workbench, each read off the screen: the
Logs pane after a failure, wrapped log lines, the step key, the log count, the Files pane's
explanations, paused time apart from running time, and panes without stray boxes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import (
    Workbench,
    run_selected,
    screen_text,
    select_flow,
    wait_for_text,
    wait_until,
)
from tests.tui.test_panes import focus_task
from tui.app.roost_app import RoostApp
from tui.screens.inputs_form import InputsScreen
from tui.screens.main import DetailTabs
from tui.widgets.files_pane import FilesPane, MovedOutputsNote
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.triggers_pane import TriggersPane


def test_a_flow_without_triggers_shows_the_message_and_no_table(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("6")
        text = await wait_for_text(pilot, app, "greet has no triggers.")
        assert app.main.query_one(DetailTabs).active == "triggers"
        assert "last result" not in text and "next" not in text.split("greet has no")[1][:400]
        assert not app.main.query_one(TriggersPane).table.show_header

    workbench.run(check)


def test_files_pane_says_the_flow_has_no_working_directory(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await run_selected(app, pilot)
        await pilot.press("3")
        await wait_for_text(pilot, app, "greet has no working directory",
                            absent=("no working directory kept",))

    workbench.run(check)


def test_files_pane_names_the_outputs_moved_to_storage_and_links_to_them(
        workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await focus_task(app, pilot, ("task", "write", ()))
        await pilot.press("3")
        await wait_for_text(pilot, app,
                            "outputs moved to storage: people.csv, summary.json — enter: see")
        files = app.main.query_one(FilesPane)
        tree = files.file_tree
        note = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                    if n is not None and isinstance(n.data, MovedOutputsNote))
        tree.focus()
        tree.move_cursor(note)
        await pilot.press("enter")
        outputs = app.main.query_one(OutputsPane)
        await wait_until(pilot, lambda: outputs.output_tree.has_focus
                         and outputs.selected_artifact is not None
                         and outputs.selected_artifact.name == "people.csv",
                         what="people.csv selected in Outputs")
        assert app.main.query_one(DetailTabs).active == "outputs"
        await wait_for_text(pilot, app, "Grace")  # its preview, beside the tree

    workbench.run(check, size=(200, 44))  # the tree is half the pane: room for the whole line


def test_a_failed_run_brings_logs_forward_at_its_first_error(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "fails")
        await pilot.press("7")
        await wait_for_text(pilot, app, "Not paused")
        await run_selected(app, pilot)
        log_view = app.main.query_one(LogView)
        await wait_for_text(pilot, app, "schema mismatch in column amount",
                            absent=("Not paused",))
        await wait_until(pilot, lambda: log_view.has_focus and log_view.cursor_entry is not None
                         and log_view.cursor_entry.level == "ERROR", what="the cursor on ERROR")
        assert app.main.query_one(DetailTabs).active == "logs"
        store = log_view.store
        first_error = next(i for i in range(len(store)) if store.get(i).level == "ERROR")
        assert log_view.cursor_row == log_view.view.row_of(first_error)
        assert log_view.cursor_row < len(log_view.view) - 1, "not merely the last line"
        assert not log_view.follow

    workbench.run(check)


def _subtitle(text: str) -> str:
    """The right-hand pane's bottom border line (where the log status shows)."""
    return next(line for line in reversed(text.splitlines()) if "╰" in line and "╯" in line)


def test_log_count_is_on_logs_only_and_right_after_each_change(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await run_selected(app, pilot)
        await pilot.press("1")
        text = await wait_for_text(pilot, app, "Hello, Ada x2!", "1 line · all levels")
        await pilot.press("l", "l", "l")  # DEBUG, INFO, WARN: the INFO line is filtered out
        text = await wait_for_text(pilot, app, "0 lines · ≥WARN",
                                   absent=("1 line · all levels", "Hello, Ada x2!"))
        assert "No line at ≥WARN" in text
        for pane in ("4", "2", "6"):  # Source, Outputs, Triggers: no log count on the border
            await pilot.press(pane)
            text = await wait_for_text(pilot, app, absent=("0 lines", "≥WARN · following"))
            assert "lines ·" not in _subtitle(text)
        await pilot.press("1")
        await wait_for_text(pilot, app, "0 lines · ≥WARN")
        await pilot.press("l", "l")  # ERROR, then ALL again
        await wait_for_text(pilot, app, "1 line · all levels", "Hello, Ada x2!")
        first = app.shown
        await pilot.press("R")  # a new run: its own count
        await wait_until(pilot, lambda: app.shown is not None and app.shown is not first
                         and not app.shown.live and app.shown.finished, what="the re-run")
        await wait_for_text(pilot, app, "1 line · all levels")

    workbench.run(check)


def _footer(app: RoostApp) -> str:
    return screen_text(app).splitlines()[-1]


def test_s_steps_from_any_pane_and_n_stays_next_match_in_logs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await run_selected(app, pilot)
        await pilot.press("1")
        log_view = app.main.query_one(LogView)
        assert log_view.has_focus
        await wait_until(pilot, lambda: "s Step" in _footer(app) and "n Next match" in _footer(app),
                         what=f"s Step and n Next match in the footer ({_footer(app)})")
        await pilot.press("n")  # no search yet: n is not step mode, nor a complaint
        await pilot.press("slash", *"Hello", "enter")
        await wait_until(pilot, lambda: log_view.search_term == "Hello", what="the search")
        await pilot.press("n")
        assert log_view.cursor_entry is not None and "Hello" in log_view.cursor_entry.message
        assert not any("No search yet" in n.message for n in app._notifications)
        assert app.shown is not None and len(app.shown.task_runs) == 2  # n started no run
        await pilot.press("s")  # step mode, with Logs focused (greet has inputs: the form)
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen), what="the form")
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, app, "paused before hello")
        await pilot.press("n")  # while paused, n answers the pause
        await wait_for_text(pilot, app, "paused before shout")
        await pilot.press("c")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished
                         and not app.shown.live, what="the end of the stepped run")
        for pane in ("4", "2"):  # Source, Outputs: s is in the footer there too
            await pilot.press(pane)
            await wait_until(pilot, lambda: "s Step" in _footer(app), what="s Step")

    workbench.run(check, size=(200, 44))


def test_tasks_show_running_time_with_the_breakpoint_wait_apart(workbench: Workbench,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.execution.debug_session as debug_session

    # The user reads the Debug pane for 11.3 s of a fake clock: the pause's length does not
    # depend on how fast this machine answers the key.
    real = debug_session.utcnow
    monkeypatch.setattr(debug_session, "utcnow", lambda: real() + timedelta(seconds=11.3))

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen), what="the form")
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, app, "paused before hello")
        await pilot.press("c")
        text = await wait_for_text(pilot, app, re.compile(r"hello log\.Log  \S+ \(paused \S+\)"))
        _running, paused = re.search(r"hello log\.Log  (\S+) \(paused (\S+)\)", text).groups()
        assert _seconds(paused) >= 11.3, paused  # the fake clock's wait, shown apart
        assert app.shown is not None
        run = next(r for r in app.shown.task_runs.values() if r.task_id == "hello")
        assert run.paused_seconds >= 11.3

    workbench.run(check)


def _seconds(shown: str) -> float:
    """``185ms`` or ``1.2s`` (the tree's durations) in seconds."""
    return int(shown[:-2]) / 1000 if shown.endswith("ms") else float(shown[:-1])


LONG_LINE = """\
id: longline
namespace: tui.tests
tasks:
  - id: talk
    type: io.kestra.plugin.core.log.Log
    message:
      - "short before"
      - "%sTHE-END"
      - "short after"
"""


def test_long_log_lines_wrap_one_cursor_stop_each_and_w_scrolls_sideways(
        workbench: Workbench) -> None:
    (workbench.flows / "longline.yml").write_text(LONG_LINE % ("word " * 60))

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "longline")
        await run_selected(app, pilot)
        await pilot.press("1")
        log_view = app.main.query_one(LogView)
        await wait_for_text(pilot, app, "THE-END", "short after")  # wrapped: the end is shown
        assert log_view.wrap and "w Wrap" in _footer(app)
        await pilot.press("up")  # from "short after" to the long line: one stop
        await wait_until(pilot, lambda: log_view.cursor_entry is not None
                         and log_view.cursor_entry.message.endswith("THE-END"), what="long line")
        await pilot.press("up")
        await wait_until(pilot, lambda: log_view.cursor_entry is not None
                         and log_view.cursor_entry.message == "short before", what="line before")
        # search finds the long line and marks the match on its continuation line
        await pilot.press("slash", *"THE-END", "enter")
        await wait_until(pilot, lambda: log_view.cursor_entry is not None
                         and log_view.cursor_entry.message.endswith("THE-END"), what="the match")
        match_style = log_view.get_component_rich_style("log-view--match")

        def marked_on_screen() -> bool:
            for y in range(log_view.scrollable_content_region.height):
                line = log_view.render_line(y)
                if "THE-END" in line.text and any("THE-END" in segment.text
                                                  and segment.style is not None
                                                  and segment.style.bgcolor == match_style.bgcolor
                                                  for segment in line):
                    return not line.text.lstrip().startswith(("1", "2"))  # a continuation
            return False

        await wait_until(pilot, marked_on_screen, what="the match marked on its wrapped line")
        await pilot.press("w")  # wrap off: the line is cut at the pane edge, scrolls sideways
        await wait_for_text(pilot, app, "short before", "short after", absent=("THE-END",))
        assert not log_view.wrap
        await pilot.press("w")
        await wait_for_text(pilot, app, "THE-END")

    workbench.run(check)


def test_x_cancel_is_in_the_footer_only_while_something_runs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "slow")
        await wait_until(pilot, lambda: "r Run" in _footer(app) and "x Cancel" not in _footer(app),
                         what=f"no x Cancel while idle ({_footer(app)})")
        await pilot.press("r")
        await wait_for_text(pilot, app, "waiting")
        await wait_until(pilot, lambda: "x Cancel" in _footer(app), what="x Cancel while running")
        await pilot.press("x")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished
                         and not app.shown.live, what="the cancelled run's end")
        await wait_until(pilot, lambda: "x Cancel" not in _footer(app), what="x Cancel gone")

    workbench.run(check)
