"""The workbench's pause before a task Roost cannot run: type its outputs, skip it, or abort,
and optionally save the answer as a [[mocks]] table in roost.toml. Real runs, driven by Pilot."""

from __future__ import annotations

import textwrap
import tomllib

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, TextArea

from engine.core.records import TaskRun
from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.mock_outputs import MockOutputsScreen
from tui.widgets.task_tree import TaskTree

FLOW = textwrap.dedent("""\
    id: warehouse
    namespace: company.team
    tasks:
      - id: query
        type: io.kestra.plugin.snowflake.Query
        sql: SELECT 1
      - id: report
        type: io.kestra.plugin.core.log.Log
        message: "rows={{ outputs.query.rows ?? 'none' }}"
    """)


@pytest.fixture
def bench(workbench: Workbench) -> Workbench:
    folder = workbench.flows.parent / "mock_flows"
    folder.mkdir()
    (folder / "warehouse.yml").write_text(FLOW)
    return Workbench(folder, workbench.home, workbench.environ)


async def start_and_wait_for_the_mock_screen(app: RoostApp, pilot: Pilot[int]) -> MockOutputsScreen:
    await select_flow(app, pilot, "warehouse")
    await run_selected(app, pilot, state="PAUSED")
    await wait_until(pilot, lambda: isinstance(app.screen, MockOutputsScreen), what="the mock screen")
    screen = app.screen
    assert isinstance(screen, MockOutputsScreen)
    await wait_for_text(pilot, app, "Mock query", "io.kestra.plugin.snowflake.Query is not available locally")
    return screen


async def finished(app: RoostApp, pilot: Pilot[int]) -> str:
    await wait_until(pilot, lambda: app.shown is not None and app.shown.finished
                     and not app.shown.live, what="the end of the run")
    assert app.shown is not None
    return app.shown.execution.state.value


def query_run(app: RoostApp) -> TaskRun:
    assert app.shown is not None
    return next(r for r in app.shown.task_runs.values() if r.task_id == "query")


def report_logs(app: RoostApp) -> list[str]:
    assert app.shown is not None
    logs = app.shown.logs
    return [e.message for e in logs.get_many(0, len(logs)) if e.task_id == "report"]


async def the_tree_marks_the_unavailable_task(app: RoostApp, pilot: Pilot[int]) -> None:
    await select_flow(app, pilot, "warehouse")
    await wait_for_text(pilot, app, "⊘ query snowflake.Query")
    tree = app.main.query_one(TaskTree)
    labels = [str(node.label) for node in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
              if node is not None]
    assert "⊘ query snowflake.Query  not available locally" in [
        label.lstrip("· ") for label in labels]
    assert any(label.endswith("report log.Log") for label in labels)


def test_typed_outputs_stand_in_for_the_task_and_the_run_succeeds_with_them(bench):
    """(The tree marks the task as not available locally before the run, too.)"""
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await the_tree_marks_the_unavailable_task(app, pilot)
        screen = await start_and_wait_for_the_mock_screen(app, pilot)
        area = screen.query_one(TextArea)
        area.text = '{"rows": 1'
        area.move_cursor(area.document.end)
        await wait_for_text(pilot, app, "✘ invalid JSON")
        await pilot.press("2", "}")  # the last keys typed for real: the editor takes them
        await wait_for_text(pilot, app, "✔ valid JSON object")
        assert area.text == '{"rows": 12}'
        await pilot.press("ctrl+s")
        assert await finished(app, pilot) == "SUCCESS"
        run = query_run(app)
        assert run.mocked and run.outputs == {"rows": 12}
        await wait_for_text(pilot, app, "◇ query snowflake.Query  mocked", absent=("⊘",))
        assert not (bench.flows / "roost.toml").exists()  # not saved unless asked

    bench.run(check)


def test_invalid_json_is_flagged_and_cannot_be_used(bench):
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        screen = await start_and_wait_for_the_mock_screen(app, pilot)
        screen.query_one(TextArea).text = '{"rows": '
        await wait_for_text(pilot, app, "✘ invalid JSON: line 1, column 10")
        assert screen.query_one("#mock-use", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert app.screen is screen  # still asking
        screen.query_one(TextArea).text = "[1]"
        await wait_for_text(pilot, app, "the outputs must be a JSON object")
        await pilot.press("ctrl+x")
        assert await finished(app, pilot) == "KILLED"

    bench.run(check)


def test_skip_makes_the_task_success_with_no_outputs(bench):
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await start_and_wait_for_the_mock_screen(app, pilot)
        await pilot.press("ctrl+k")
        assert await finished(app, pilot) == "SUCCESS"
        run = query_run(app)
        assert run.mocked and run.state.value == "SUCCESS" and run.outputs == {}
        await wait_until(pilot, lambda: report_logs(app) == ["rows=none"], what="report's log")

    bench.run(check)


def test_abort_kills_the_run_before_the_task(bench):
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        screen = await start_and_wait_for_the_mock_screen(app, pilot)
        await pilot.click("#mock-abort")
        await wait_until(pilot, lambda: app.screen is not screen, what="the screen to close")
        assert await finished(app, pilot) == "KILLED"
        assert not query_run(app).mocked

    bench.run(check)


def test_saved_mock_goes_to_roost_toml_and_the_next_run_uses_it_without_asking(bench):
    config = bench.flows / "roost.toml"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        screen = await start_and_wait_for_the_mock_screen(app, pilot)
        screen.query_one(TextArea).text = '{"rows": 3, "names": ["a", "b"]}'
        screen.query_one(Checkbox).value = True
        await pilot.press("ctrl+s")
        assert await finished(app, pilot) == "SUCCESS"
        saved = tomllib.loads(config.read_text())
        assert saved["mocks"] == [{"flow": "company.team.warehouse", "task": "query",
                                   "state": "SUCCESS", "outputs": {"rows": 3, "names": ["a", "b"]}}]
        assert saved["runner"] == {"default": "process"}  # the rest of the file is kept
        first = app.shown
        await run_selected(app, pilot)  # no pause this time: the saved mock stands in
        assert app.shown is not first and app.shown is not None
        assert app.shown.execution.state.value == "SUCCESS"
        assert query_run(app).mocked and query_run(app).outputs == {"rows": 3, "names": ["a", "b"]}

    config.write_text('[runner]\ndefault = "process"\n')
    bench.run(check)


def test_the_screen_opens_prefilled_with_the_last_mock_used_for_the_task(bench):
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        screen = await start_and_wait_for_the_mock_screen(app, pilot)
        screen.query_one(TextArea).text = '{"rows": 77}'
        await pilot.press("ctrl+s")
        assert await finished(app, pilot) == "SUCCESS"
        second = await start_and_wait_for_the_mock_screen(app, pilot)
        assert second is not screen
        assert '"rows": 77' in second.query_one(TextArea).text

    bench.run(check)
