"""Every pane and key of the workbench, with real runs: logs, outputs, files, source, layout."""

from __future__ import annotations

import os
import re
from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot

from tests.tui.conftest import (
    Workbench,
    run_selected,
    screen_text,
    select_flow,
    wait_for_text,
    wait_until,
)
from tui.app.roost_app import RoostApp
from tui.screens.artifact import ArtifactScreen, SaveArtifactScreen
from tui.screens.help import HelpScreen
from tui.screens.main import DetailTabs
from tui.widgets.files_pane import FileEntry, FilesPane
from tui.widgets.flow_list import FlowList
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.widgets.source_pane import SourcePane
from tui.widgets.task_tree import TaskTree


def notices(app: RoostApp) -> list[str]:
    return [n.message for n in app._notifications]


async def focus_task(app: RoostApp, pilot: Pilot[int], key: tuple[object, ...]) -> None:
    tree = app.main.query_one(TaskTree)
    node = tree.node_for(key)  # type: ignore[arg-type]
    assert node is not None, key
    tree.focus()
    tree.move_cursor(node)
    await wait_until(pilot, lambda: app.selected_item is not None and app.selected_item.key == key)


async def select_output(app: RoostApp, pilot: Pilot[int], name: str) -> None:
    pane = app.main.query_one(OutputsPane)
    tree = pane.output_tree
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and node.data is not None and node.data.name == name:
            tree.focus()
            tree.move_cursor(node)
            await wait_until(pilot, lambda: tree.cursor_node is node,  # noqa: B023
                             what=f"the cursor on {name}")
            return
    raise AssertionError(f"no output named {name}")


def test_tab_and_shift_tab_move_between_panes(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        main = app.main
        assert main.current_pane() == "flows"
        seen = []
        for _ in range(11):
            await pilot.press("tab")
            seen.append(main.current_pane())
        assert seen == ["tasks", "logs", "outputs", "files", "source", "history", "triggers",
                        "debug", "changes", "tests", "flows"]
        await pilot.press("shift+tab")
        assert main.current_pane() == "tests"
        assert main.query_one(DetailTabs).active == "tests"
        await pilot.press("1")
        assert main.current_pane() == "logs"

    workbench.run(check)


def test_number_keys_and_clicks_switch_panes(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        main = app.main
        for key, pane in (("2", "outputs"), ("3", "files"), ("4", "source"), ("5", "history")):
            await pilot.press(key)
            assert main.query_one(DetailTabs).active == pane
        await pilot.click("#--content-tab-logs")
        assert main.query_one(DetailTabs).active == "logs"

    workbench.run(check)


def test_enter_on_a_task_shows_its_logs_only(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        log_view = app.main.query_one(LogView)
        total = len(log_view.view)

        def messages() -> list[str]:
            return [log_view.store.get(i).message for i in log_view.view]

        await focus_task(app, pilot, ("task", "count", ("jan",)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.main.current_pane() == "logs", what="Logs focused")
        await wait_until(pilot, lambda: any("counting jan" in m for m in messages()),
                         what="jan's log lines")
        assert all("feb" not in m for m in messages())
        assert len(log_view.view) < total
        await wait_for_text(pilot, app, "count [jan]")
        # the flow root shows the whole execution again
        await focus_task(app, pilot, ("flow", "", ()))
        await wait_until(pilot, lambda: len(log_view.view) == total, what=f"all {total} lines")

    workbench.run(check)


def test_a_parent_task_or_an_iteration_shows_its_descendants_logs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        log_view = app.main.query_one(LogView)

        def shown() -> list[str]:
            return [log_view.store.get(i).message for i in log_view.view]

        await focus_task(app, pilot, ("task", "each", ()))
        assert any("counting jan" in m for m in shown())
        assert any("counting feb" in m for m in shown())
        await focus_task(app, pilot, ("iter", "each", ("feb",)))
        await wait_until(pilot, lambda: not any("counting jan" in m for m in shown()),
                         what="feb's lines only")
        assert any("counting feb" in m for m in shown())
        await wait_for_text(pilot, app, "each [feb]")

    workbench.run(check)


def test_log_keys_follow_search_level_timestamps_copy(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        log_view = app.main.query_one(LogView)
        await pilot.press("1")
        assert log_view.has_focus and log_view.follow
        await pilot.press("f")
        assert not log_view.follow
        await wait_for_text(pilot, app, "paused")
        await pilot.press("f")
        assert log_view.follow
        # search: / opens the box, enter finds, n / N move between matches
        await pilot.press("slash")
        await pilot.press(*"counting", "enter")
        await wait_until(pilot, lambda: log_view.cursor_entry is not None
                         and "counting" in log_view.cursor_entry.message, what="the first match")
        first = log_view.cursor_row
        await pilot.press("n")
        second = log_view.cursor_row
        assert second != first and "counting" in log_view.cursor_entry.message  # type: ignore[union-attr]
        await pilot.press("N")
        assert log_view.cursor_row == first
        assert not log_view.follow, "searching moved away from the end"
        # level filter and timestamps (a log row starts with its time, 12:34:56.789)
        await pilot.press("l")
        assert log_view.min_level == "DEBUG"
        stamp = re.compile(r"│\d\d:\d\d:\d\d\.\d{3} ")
        await wait_for_text(pilot, app, stamp)
        await pilot.press("t")
        assert not log_view.show_timestamps
        await wait_for_text(pilot, app, re.compile(r"│[IDWE] "), absent=(stamp,))
        # copy the line under the cursor
        await pilot.press("c")
        assert app.clipboard.endswith(log_view.cursor_entry.message)  # type: ignore[union-attr]

    workbench.run(check)


def test_slash_from_another_pane_opens_the_log_search(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await pilot.press("slash")
        log_view = app.main.query_one(LogView)
        await wait_until(pilot, lambda: log_view.has_class("-searching"), what="the search box")
        assert app.main.query_one(DetailTabs).active == "logs"

    workbench.run(check)


def test_outputs_preview_csv_as_table_and_json_as_tree(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await wait_for_text(pilot, app, "people.csv", "summary.json", "rows = 2",
                            "rows_written counter 2")  # outputs, files and metrics
        await select_output(app, pilot, "people.csv")
        await wait_for_text(pilot, app, "CSV · 3 columns · 2 rows", "score float", "id int", "Grace")
        await select_output(app, pilot, "summary.json")
        text = await wait_for_text(pilot, app, "rows=2")
        assert "names=" not in text or "JSON" in text

    workbench.run(check)


def test_enter_opens_artifact_full_screen_and_e_saves_it(workbench: Workbench, tmp_path: Path) -> None:
    target = tmp_path / "saved" / "out.csv"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await select_output(app, pilot, "people.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ArtifactScreen))
        await wait_for_text(pilot, app, "Grace")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveArtifactScreen))
        path_input = app.screen.query_one("#save-path")
        path_input.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists())
        assert target.read_text() == "id,name,score\n1,Ada,9.5\n2,Grace,8.0\n"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ArtifactScreen), what="the preview to close")

    workbench.run(check)


def test_e_without_an_artifact_explains_what_to_select(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await pilot.press("e")
        await wait_until(pilot, lambda: any("Select an output file" in n for n in notices(app)),
                         what=f"the hint (notices: {notices(app)})")

    workbench.run(check)


def test_o_opens_the_artifact_in_the_pager_or_says_why_not(workbench: Workbench) -> None:
    os.environ["PAGER"] = "definitely-not-a-pager-program"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await select_output(app, pilot, "people.csv")
        await pilot.press("o")
        await wait_until(pilot, lambda: any("definitely-not-a-pager-program" in n for n in notices(app)),
                         what=f"the pager's failure (notices: {notices(app)})")

    try:
        workbench.run(check)
    finally:
        del os.environ["PAGER"]


def test_files_pane_shows_the_working_directory_marks_and_previews(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        # the shared directory keeps what `write` made that outputFiles did not move: nothing;
        # write one more file there to see the live tree pick it up
        await focus_task(app, pilot, ("task", "write", ()))
        await pilot.press("3")
        files = app.main.query_one(FilesPane)
        await wait_until(pilot, lambda: files.root_path is not None)
        assert files.window is not None and files.window.task_id == "write"
        folder = files.window.folder
        (folder / "late.txt").write_text("written after the run\n")
        files.rescan()
        await wait_until(pilot, lambda: "late.txt" in screen_text(app))
        tree = files.file_tree
        node = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                    if n is not None and isinstance(n.data, FileEntry) and n.data.path.name == "late.txt")
        tree.focus()
        tree.move_cursor(node)
        await wait_for_text(pilot, app, "written after the run", "22 B")  # sizes are shown

    workbench.run(check)


def test_files_pane_marks_files_the_selected_task_changed(workbench: Workbench) -> None:
    (workbench.flows / "keep.yml").write_text("""
id: keep
namespace: tui.tests
tasks:
  - id: box
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - echo one > first.txt
      - id: second
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - sleep 1.2
          - echo two > second.txt
""")

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "keep")
        await run_selected(app, pilot)
        await focus_task(app, pilot, ("task", "second", ()))
        await pilot.press("3")
        text = await wait_for_text(pilot, app, "● second.txt", "first.txt", "1 changed by second")
        first = next(line for line in text.splitlines() if "first.txt" in line)
        assert "● first.txt" not in first

    workbench.run(check)


def test_source_pane_highlights_yaml_and_marks_errors_at_their_line(workbench: Workbench) -> None:
    (workbench.flows / "broken.yml").write_text(
        "id: broken\nnamespace: tui.tests\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Logg\n"
        "    message: hi\n")

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "broken")
        await pilot.press("4")
        source = app.main.query_one(SourcePane)
        lines = source.text_lines()
        error_row = next(i for i, line in enumerate(lines) if line.startswith("✘"))
        assert lines[error_row].startswith("✘5 ")
        assert "Logg" in lines[error_row]
        assert "╰─ 5:" in lines[error_row + 1] and "unknown task type" in lines[error_row + 1].lower()
        await wait_for_text(pilot, app, "broken.yml:5:")  # the banner
        await pilot.press("n")
        await wait_until(pilot, lambda: any("5:" in n for n in notices(app)),
                         what=f"the error's notice (notices: {notices(app)})")

    workbench.run(check)


def test_selecting_a_task_scrolls_source_to_its_line(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await focus_task(app, pilot, ("task", "write", ()))

        def marked() -> list[str]:  # the Source pane follows the tree after the tree's frame
            return [line for line in app.main.query_one(SourcePane).text_lines() if line.startswith("▸")]

        await wait_until(pilot, lambda: any("- id: write" in line for line in marked()),
                         what="the Source pane marking write's line")
        assert len(marked()) == 1 and "- id: write" in marked()[0]

    workbench.run(check)


def test_z_maximises_the_focused_pane_and_restores_it(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await wait_for_text(pilot, app, "Flows")
        await pilot.press("1")
        await pilot.press("z")
        assert isinstance(app.screen.maximized, DetailTabs)
        await wait_for_text(pilot, app, "1 Logs", absent=("Flows",))
        await pilot.press("z")
        assert app.screen.maximized is None
        await wait_for_text(pilot, app, "Flows")

    workbench.run(check)


def test_question_mark_shows_every_key(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        keys = ("r", "x", "R", "a", "f", "/", "tab / shift+tab", "enter", "e", "?", "q")

        def unlisted() -> list[str]:
            text = screen_text(app)
            return [key for key in keys if f" {key} " not in text and f"│ {key}" not in text]

        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await wait_until(pilot, lambda: not unlisted(), what=f"every key in the help ({unlisted()})")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help to close")

    workbench.run(check)


def test_footer_shows_the_main_keys(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        def footer_lacks(*labels: str) -> list[str]:
            footer = screen_text(app).splitlines()[-1]
            return [label for label in labels if label not in footer]

        # (x Cancel shows only while something runs: test_newcomer_fixes pins it)
        main_keys = ("r Run", "R Re-run", "a Auto-run", "s Step", "? Help", "q Quit")
        await wait_until(pilot, lambda: not footer_lacks(*main_keys),
                         what=f"the main keys in the footer (missing {footer_lacks(*main_keys)})")
        await pilot.press("1")
        log_keys = ("f Follow", "/ Search", "r Run")
        await wait_until(pilot, lambda: not footer_lacks(*log_keys),
                         what=f"the log keys in the footer (missing {footer_lacks(*log_keys)})")

    workbench.run(check, size=(160, 40))


def test_every_action_is_in_the_command_palette(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Run flow", "Cancel execution", "Re-run", "Toggle auto-run", "Follow logs",
                      "Search logs", "Save artifact", "Open in $PAGER", "Maximise pane", "Help",
                      "Show Logs", "Show History", "Quit"):
            assert title in titles
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"auto-run")
        await wait_for_text(pilot, app, "Toggle auto-run")  # the palette found it
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.auto_run)

    workbench.run(check)


def test_q_quits(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await pilot.press("q")
        await pilot.pause()

    app = workbench.run(check)
    assert app.return_code == 0


def test_mouse_click_selects_a_flow(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        flow_list = app.main.query_one(FlowList)
        assert app.selected_path is not None and app.selected_path.name == "fails.yml"
        # rows: namespace header, fails, greet, ... (clicked once they are painted there)
        await wait_for_text(pilot, app, re.compile(r"tui\.tests.*\n.*fails.*\n.*greet"))
        await pilot.click(FlowList, offset=(5, 3))
        await wait_until(pilot, lambda: app.selected_path is not None
                         and app.selected_path.name == "greet.yml")
        assert flow_list.selected_path == workbench.flows / "greet.yml"

    workbench.run(check)


def test_layout_fits_80x24(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        text = await wait_for_text(pilot, app, "Flows", "Tasks", "1 Logs", "greet", "hello",
                                   re.compile(r"r Run[^\n]*$"))
        assert len(text.splitlines()) == 24

    workbench.run(check, size=(80, 24))
