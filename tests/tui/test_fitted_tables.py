"""History and Triggers tables: the first frame after their rows change shows every cell whole.

Textual's DataTable measures auto-width columns only when it is next idle; a frame painted
before that (a busy machine makes it likely) was cached at the header's widths and stayed
cramped ("SUCCE  tui.  2026-12") until the cursor moved. The rows are read here straight after
``show``, before the app has had a chance to idle: the frame a user could see first.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from engine.core.records import Execution, StateEntry
from engine.core.states import State
from tests.tui.conftest import wait_until
from tui.models.formatting import format_time
from tui.widgets.history_pane import HistoryPane
from tui.widgets.triggers_pane import TriggerRow, TriggerTable

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EXECUTION_ID = "6suwZLf4xpE6sgKRIBQKAU"


class TablesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield HistoryPane()
        yield TriggerTable()


def rows_of(table: HistoryPane | TriggerTable, count: int) -> list[str]:
    """The table's first ``count`` rows as painted now (row 0 of the widget is the header)."""
    return [table.render_line(y).text.rstrip() for y in range(1, count + 1)]


def test_history_rows_are_whole_in_the_first_frame_after_they_change() -> None:
    done = Execution(EXECUTION_ID, "tui.tests", "report", State.SUCCESS,
                     histories=(StateEntry(State.CREATED, T0),
                                StateEntry(State.SUCCESS, T0 + timedelta(milliseconds=250))))
    running = Execution("7KH8XHPy0aBcDeFgHiJkLm", "tui.tests.a.much.longer.namespace", "nightly",
                        State.RUNNING, histories=(StateEntry(State.RUNNING, T0),))

    async def main() -> None:
        app = TablesApp()
        async with app.run_test(size=(140, 20)) as pilot:
            pane = app.query_one(HistoryPane)
            await wait_until(pilot, lambda: len(pane.columns) == 6, what="the columns")
            pane.show([done])
            started = re.escape(format_time(T0, with_date=True))
            [row] = rows_of(pane, 1)
            assert re.search(rf"✔\s+SUCCESS\s+tui\.tests\.report\s+{started}\s+250ms\s+{EXECUTION_ID}$",
                             row), row
            pane.show([running, done])  # a longer flow key widens the column for both rows
            first, second = rows_of(pane, 2)
            assert re.search(rf"RUNNING\s+tui\.tests\.a\.much\.longer\.namespace\.nightly\s+{started}"
                             rf"\s+…\s+7KH8XHPy0aBcDeFgHiJkLm$", first), first
            assert re.search(rf"SUCCESS\s+tui\.tests\.report\s+{started}\s+250ms\s+{EXECUTION_ID}$",
                             second), second
            # and the widths hold once the table has idled (nothing re-measures them narrower)
            await pilot.pause()
            assert rows_of(pane, 2) == [first, second]

    asyncio.run(main())


def test_trigger_rows_are_whole_in_the_first_frame_after_they_change() -> None:
    rows = [TriggerRow("every-second", "io.kestra.plugin.core.trigger.Schedule", "ACTIVE",
                       next_fire=T0, last_execution_id=EXECUTION_ID),
            TriggerRow("inbox", "io.kestra.plugin.fs.local.Trigger", "PAUSED",
                       error="cannot read /srv/inbox: permission denied")]

    async def main() -> None:
        app = TablesApp()
        async with app.run_test(size=(160, 20)) as pilot:
            table = app.query_one(TriggerTable)
            await wait_until(pilot, lambda: len(table.columns) == 7, what="the columns")
            table.show(rows)
            first, second = rows_of(table, 2)
            next_fire = re.escape(format_time(T0, with_date=True))
            assert re.search(rf"●\s+every-second\s+Schedule\s+ACTIVE\s+{next_fire}\s+{EXECUTION_ID}$",
                             first), first
            assert re.search(r"⏸\s+inbox\s+Trigger\s+PAUSED\s+-\s+cannot read /srv/inbox: permission denied$",
                             second), second

    asyncio.run(main())
