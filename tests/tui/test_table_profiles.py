"""A table output previews with its DuckDB profile beside it: rows, and per column nulls,
distinct values, min and max."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text
from tests.tui.test_panes import select_output
from tui.app.roost_app import RoostApp


def test_a_csv_output_shows_its_profile_beside_the_table(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        await pilot.press("2")
        await wait_for_text(pilot, app, "people.csv")
        await select_output(app, pilot, "people.csv")
        # the table first, then the profile computed in a worker: min 8.0 and max 9.5 of score
        await wait_for_text(pilot, app, "CSV · 3 columns · 2 rows", "Grace")
        await wait_for_text(pilot, app, "profile · 2 rows", "DOUBLE", "8.0", "9.5", "distinct")

    workbench.run(check)
