"""Simulating a trigger from the workbench: r → the run/simulate choice → the simulate form →
a live run with the trigger's variables; S repeats the flow's last simulation (kept in history)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.tui.conftest import Workbench, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.simulate_form import SimulateScreen
from tui.screens.trigger_choice import RunChoiceScreen
from tui.widgets.log_view import LogView

FLOW = """\
id: landing
namespace: tui.tests
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "got {{ trigger.objects[0].key ?? trigger.body.order ?? 'nothing' }}"
triggers:
  - id: waitForS3object
    type: io.kestra.plugin.aws.s3.Trigger
    bucket: declarative-orchestration
    prefix: raw/
    action: NONE
    accessKeyId: "{{ secret('AWS_ACCESS_KEY_ID') }}"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: abc
"""


def log_messages(app: RoostApp) -> list[str]:
    store = app.main.query_one(LogView).store
    return [entry.message for entry in store.get_many(0, len(store))]


def finished(app: RoostApp, before: object) -> bool:
    shown = app.shown
    return shown is not None and shown is not before and shown.finished and not shown.live


async def choose(app: RoostApp, pilot: Pilot[int], downs: int) -> None:
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, RunChoiceScreen), what="the choice")
    await wait_for_text(pilot, app, "Run  the flow as it is", "Simulate waitForS3object", "Simulate hook")
    for _ in range(downs):
        await pilot.press("down")
    await pilot.press("enter")


def write_flow(workbench: Workbench, tmp: Path) -> Path:
    (workbench.flows / "landing.yml").write_text(FLOW)
    data = tmp / "messy.csv"
    data.write_text("Name,Age\n")
    return data


def test_simulate_s3_with_a_file_runs_live_and_s_or_r_repeats_it(workbench: Workbench, tmp_path: Path) -> None:
    data = write_flow(workbench, tmp_path)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "landing")
        await choose(app, pilot, downs=1)
        await wait_until(pilot, lambda: isinstance(app.screen, SimulateScreen), what="the form")
        await wait_for_text(pilot, app, "no file yet")
        app.screen.query_one("#simulate-path").value = str(data)  # type: ignore[attr-defined]
        await pilot.press("enter")  # adds the file
        await wait_for_text(pilot, app, f"• {data}")
        await pilot.press("enter")  # an empty path line: runs
        await wait_until(pilot, lambda: finished(app, None), what="the simulated run")
        await wait_for_text(pilot, app, "✔ show")
        first = app.shown
        assert first is not None and first.execution.state.value == "SUCCESS"
        [found] = first.execution.trigger["objects"]  # type: ignore[index]
        assert found["key"] == "raw/messy.csv"
        assert "got raw/messy.csv" in log_messages(app)

        await pilot.press("S")
        await wait_until(pilot, lambda: finished(app, first), what="the repeated simulation")
        await wait_for_text(pilot, app, "✔ show")
        again = app.shown
        assert again is not None and again.execution.state.value == "SUCCESS"
        assert again.execution.trigger["objects"][0]["key"] == "raw/messy.csv"  # type: ignore[index]
        assert again.execution.id != first.execution.id

        await pilot.press("R")  # re-run of a simulated execution: the simulation, not a bare run
        await wait_until(pilot, lambda: finished(app, again), what="the re-run simulation")
        await wait_for_text(pilot, app, "✔ show")
        rerun = app.shown
        assert rerun is not None and rerun.execution.state.value == "SUCCESS"
        assert rerun.execution.trigger["objects"][0]["key"] == "raw/messy.csv"  # type: ignore[index]

    workbench.run(check)

    async def after_restart(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "landing")
        await pilot.press("S")
        await wait_until(pilot, lambda: finished(app, None), what="the simulation kept in history")
        await wait_for_text(pilot, app, "✔ show")
        assert app.shown is not None
        assert app.shown.execution.trigger["objects"][0]["key"] == "raw/messy.csv"  # type: ignore[index]

    workbench.run(after_restart)


def test_a_webhook_body_that_is_bad_json_is_shown_at_line_and_column(workbench: Workbench,
                                                                     tmp_path: Path) -> None:
    write_flow(workbench, tmp_path)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "landing")
        await choose(app, pilot, downs=2)
        await wait_until(pilot, lambda: isinstance(app.screen, SimulateScreen), what="the form")
        area = app.screen.query_one("#simulate-body")
        area.text = '{"order":\n  42,}'  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, app, "✘ invalid JSON at line 2, column 6")
        assert isinstance(app.screen, SimulateScreen) and app.shown is None
        area.text = '{"order": 42}'  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: finished(app, None), what="the simulated webhook run")
        await wait_for_text(pilot, app, "✔ show")
        assert "got 42" in log_messages(app)

    workbench.run(check)


def test_r_then_run_runs_a_flow_with_triggers_plainly_and_s_without_a_simulation_says_so(
        workbench: Workbench, tmp_path: Path) -> None:
    write_flow(workbench, tmp_path)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "landing")
        await pilot.press("S")
        await wait_until(pilot, lambda: any("No simulation of landing yet" in n.message
                                            for n in app._notifications), what="the notice")
        await choose(app, pilot, downs=0)
        await wait_until(pilot, lambda: finished(app, None), what="the plain run")
        await wait_for_text(pilot, app, "✔ show")
        assert app.shown is not None and app.shown.execution.trigger is None
        assert "got nothing" in log_messages(app)

    workbench.run(check)
