"""The Triggers pane with a real scheduler: off until T, ACTIVE with a next fire time, p pauses
and resumes, F fires now and the execution it starts shows like any run."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.help import HelpScreen
from tui.screens.main import DetailTabs
from tui.widgets.status_bar import StatusBar
from tui.widgets.triggers_pane import TriggersPane

YEARLY = """\
id: nightly
namespace: tui.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "fired by {{ trigger.date ?? 'hand' }}"
triggers:
  - id: yearly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 1 *"
"""

EVERY_SECOND = """\
id: ticking
namespace: tui.tests
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: tick
triggers:
  - id: every-second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "*/1 * * * * *"
    withSeconds: true
"""


def _rows(app: RoostApp) -> list[tuple[str, str]]:
    return [(r.trigger_id, r.state) for r in app.main.query_one(TriggersPane).table.rows_shown]


def _write(workbench: Workbench, name: str, text: str) -> Path:
    path = workbench.flows / name
    path.write_text(text)
    return path


def test_triggers_show_pause_resume_and_fire_now(workbench: Workbench) -> None:
    _write(workbench, "nightly.yml", YEARLY)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "nightly")
        await pilot.press("6")
        assert app.main.query_one(DetailTabs).active == "triggers"
        await wait_until(pilot, lambda: _rows(app) == [("yearly", "OFF")], what="the OFF row")
        await wait_for_text(pilot, app, "Triggers are off: press T")

        await pilot.press("T")
        await wait_until(pilot, lambda: _rows(app) == [("yearly", "ACTIVE")], what="ACTIVE")
        table = app.main.query_one(TriggersPane).table
        await wait_until(pilot, lambda: table.selected is not None
                         and table.selected.next_fire is not None, what="a next fire time")
        assert table.selected is not None and table.selected.next_fire is not None
        assert (table.selected.next_fire.month, table.selected.next_fire.day) == (1, 1)
        assert app.main.query_one(StatusBar).info.triggers
        await wait_for_text(pilot, app, "triggers on", "yearly", "ACTIVE")

        table.focus()
        await pilot.press("p")
        await wait_until(pilot, lambda: _rows(app) == [("yearly", "PAUSED")], what="PAUSED")
        await wait_for_text(pilot, app, "PAUSED")
        await pilot.press("p")
        await wait_until(pilot, lambda: _rows(app) == [("yearly", "ACTIVE")], what="resumed")

        await pilot.press("F")
        await wait_until(pilot, lambda: app.shown is not None, 30, what="the fired execution")
        model = app.shown
        assert model is not None
        await wait_until(pilot, lambda: not model.live and model.finished, 30,
                         what="the fired execution to end")
        assert model.execution.state.value == "SUCCESS"
        assert model.execution.flow_id == "nightly"
        assert app.latest["tui.tests.nightly"] == model.id
        assert any("fired by" in e.message for e in model.logs.get_many(0, len(model.logs)))
        await wait_until(pilot, lambda: table.selected is not None
                         and table.selected.last_execution_id == model.id, what="last execution")
        await wait_for_text(pilot, app, model.id)

        await pilot.press("T")
        await wait_until(pilot, lambda: _rows(app) == [("yearly", "OFF")], what="OFF")
        assert not app.main.query_one(StatusBar).info.triggers

    workbench.run(check, timeout=90)


def test_triggers_do_not_run_until_turned_on(workbench: Workbench) -> None:
    _write(workbench, "ticking.yml", EVERY_SECOND)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "ticking")
        await pilot.pause(1.5)  # a second-by-second schedule would have fired by now
        assert app.session is not None and app.session.triggers is None
        assert app.session.models == {}
        # the status bar, painted, says nothing of triggers
        status = await wait_for_text(pilot, app, re.compile(r"\A[^\n]*auto-run off"))
        assert "triggers on" not in status.splitlines()[0]

        await pilot.press("T")
        await wait_until(pilot, lambda: app.latest.get("tui.tests.ticking") is not None, 30,
                         what="the schedule to fire")
        await pilot.press("T")

    workbench.run(check, timeout=90)


def test_palette_and_help_list_the_trigger_keys(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Toggle triggers", "Pause or resume trigger", "Fire trigger now"} <= set(titles)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = await wait_for_text(pilot, app, "1 … 9", "Triggers", "fire it now", "pause / resume")
        for line in ("T ", "p ", "F "):
            assert any(row.strip(" │").startswith(line) for row in text.splitlines()), line

    workbench.run(check, size=(140, 100))  # tall enough for the whole help
