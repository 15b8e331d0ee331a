"""History: `m` marks two executions, `=` shows what differs between them side by side."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.compare import CompareScreen
from tui.widgets.history_pane import HistoryPane


def test_m_marks_two_executions_and_equals_shows_what_differs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        first = app.shown
        await run_selected(app, pilot)
        assert first is not None and app.shown is not None and app.shown is not first
        await pilot.press("5")
        history = app.main.query_one(HistoryPane)
        await wait_until(pilot, lambda: history.row_count == 2 and history.has_focus, what="two rows")
        await pilot.press("m")
        await wait_for_text(pilot, app, "◆ tui.tests.report")
        other = 1 - history.cursor_row
        await pilot.press("up" if other == 0 else "down")
        await wait_until(pilot, lambda: history.cursor_row == other, what="the cursor on the other row")
        await pilot.press("m")
        await wait_until(pilot, lambda: len(history.marked) == 2, what="two marks")
        await pilot.press("equals_sign")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        await wait_for_text(pilot, app, f"compare {first.id}", "inputs: same", "flow: same YAML",
                            "tasks: ", "outputFiles.people.csv: same content")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CompareScreen), what="back")

    workbench.run(check)


def test_equals_without_marks_says_how_to_compare(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("5")
        history = app.main.query_one(HistoryPane)
        await wait_until(pilot, lambda: history.row_count == 1 and history.has_focus, what="one row")
        await pilot.press("equals_sign")
        await wait_until(pilot, lambda: any("Mark two executions with m" in n.message
                                            for n in app._notifications), what="the hint")

    workbench.run(check)
