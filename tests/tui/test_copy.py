"""`c` and the palette's copy entries: the selected value, URI, path or execution id goes to
the clipboard (Textual writes it as OSC 52; the tmux test reads it back from tmux)."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tests.tui.test_panes import notices, select_output
from tests.tui.test_tmux_e2e import Tmux, start
from tests.tui.test_tmux_e2e import tmux as tmux  # noqa: F401 (the fixture, by name)
from tui.app.roost_app import RoostApp
from tui.widgets.files_pane import FilesPane
from tui.widgets.outputs_pane import OutputsPane


async def select_output_value(app: RoostApp, pilot: Pilot[int], label_start: str) -> None:
    tree = app.main.query_one(OutputsPane).output_tree
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and str(node.label).startswith(label_start):
            tree.focus()
            tree.move_cursor(node)
            await wait_until(pilot, lambda: tree.cursor_node is node, what=label_start)  # noqa: B023
            return
    raise AssertionError(f"no output line starting {label_start!r}")


def test_c_copies_the_selected_output_value_and_an_artifacts_uri(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await wait_for_text(pilot, app, "people.csv", "rows = 2")
        await select_output_value(app, pilot, "rows = ")
        await pilot.press("c")
        await wait_until(pilot, lambda: "Copied value: 2" in notices(app), what="the copy notice")
        assert app.clipboard == "2"
        await select_output(app, pilot, "people.csv")
        await pilot.press("c")
        await wait_until(pilot, lambda: any(n.startswith("Copied URI: kestra:///") for n in notices(app)),
                         what="the copy notice")
        assert re.fullmatch(r"kestra:///tui/tests/report/executions/\w+/.*people\.csv", app.clipboard)

    workbench.run(check)


def test_palette_copy_file_path_copies_the_local_path_of_the_file_selected_in_files(
        workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await wait_for_text(pilot, app, "people.csv")
        await select_output(app, pilot, "people.csv")
        app.action_copy("path")
        await wait_until(pilot, lambda: any(n.startswith("Copied path: /") for n in notices(app)),
                         what="the copy notice")
        assert Path(app.clipboard).read_text() == "id,name,score\n1,Ada,9.5\n2,Grace,8.0\n"
        assert isinstance(app.main.query_one(FilesPane), FilesPane)

    workbench.run(check)


def test_c_with_nothing_to_copy_says_what_to_select(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        app.action_copy("uri")
        await wait_until(pilot, lambda: "Nothing to copy: select an output file (Outputs) first"
                         in notices(app), what="the notice")

    workbench.run(check)


def test_c_in_history_reaches_tmuxs_clipboard_through_osc_52(tmux: tuple[Tmux, Path],  # noqa: F811
                                                              tmp_path: Path) -> None:
    server, flows = tmux
    start(server, flows, tmp_path / "home", (120, 30))
    server.run("set-option", "-g", "set-clipboard", "on")
    server.wait_for("r Run", "tui.tests")
    server.send("Down")
    server.wait_for("No execution of greet yet")
    server.send("r")
    server.wait_for("Run tui.tests.greet")
    server.send("Enter")
    server.wait_for("SUCCESS greet")
    server.send("5")  # History, the execution just run under the cursor
    server.send("c")
    screen = server.wait_for("Copied execution id: ")
    buffer = server.run("show-buffer")  # what OSC 52 put in tmux's clipboard
    assert re.fullmatch(r"\w{8,}", buffer), (buffer, screen)
    history = server.wait_for("SUCCESS")
    assert buffer[:8] in history  # the execution the History pane lists
    server.send("q")
    server.wait_for("ROOST-EXITED-0")
