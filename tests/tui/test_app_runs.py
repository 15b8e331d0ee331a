"""Running flows from the workbench (r, x, R, inputs form, history), driven by real runs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import (
    Workbench,
    run_selected,
    select_flow,
    wait_for_text,
    wait_until,
)
from tui.app.roost_app import RoostApp
from tui.screens.inputs_form import InputField, InputsScreen
from tui.widgets.flow_list import FlowList
from tui.widgets.history_pane import HistoryPane
from tui.widgets.log_view import LogView
from tui.widgets.task_tree import TaskTree


def notices(app: RoostApp) -> list[str]:
    return [n.message for n in app._notifications]


def log_messages(app: RoostApp) -> list[str]:
    store = app.main.query_one(LogView).store
    return [entry.message for entry in store.get_many(0, len(store))]


def test_run_with_inputs_form_shows_live_states_logs_and_outputs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen))
        name = app.screen.query_one("#input-name")
        name.value = "Grace"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished
                         and not app.shown.live)
        model = app.shown
        assert model is not None
        assert model.execution.state.value == "SUCCESS"
        assert model.execution.outputs == {"shouted": "GRACE"}
        # the tree shows the tasks' states, the flow list the state of the flow's last execution
        await wait_for_text(pilot, app, "✔ hello", "✔ shout", "✔ greet")
        assert "Hello, Grace x2!" in log_messages(app)

    workbench.run(check)


def test_inputs_form_shows_typed_fields_with_defaults_and_inline_errors(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen))
        screen = app.screen
        assert isinstance(screen, InputsScreen)
        fields = {f.definition.id: f for f in screen.query(InputField).results(InputField)}
        assert fields["name"].value() == "Ada"
        assert fields["times"].value() == "2"
        times = screen.query_one("#input-times")
        times.value = "99999999999"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for_text(pilot, app, "✘ input 'times'")
        assert isinstance(app.screen, InputsScreen), "a bad value keeps the form open"
        assert fields["times"].has_class("-invalid")
        assert app.shown is None
        times.value = "3"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished)
        assert "Hello, Ada x3!" in log_messages(app)

    workbench.run(check)


def test_escape_closes_the_inputs_form_without_running(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, InputsScreen), what="the form to close")
        assert app.shown is None

    workbench.run(check)


def test_failed_run_marks_failed_task_and_runs_errors_branch(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "fails")
        await run_selected(app, pilot)
        assert app.shown is not None and app.shown.execution.state.value == "FAILED"
        await wait_for_text(pilot, app, "✘ check", "errors", "✔ alert")
        assert "schema mismatch in column amount" in log_messages(app)

    workbench.run(check)


def test_foreach_iterations_appear_as_children_with_their_value(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        tree = app.main.query_one(TaskTree)
        each = tree.node_for(("task", "each", ()))
        assert each is not None
        values = [str(child.label) for child in each.children]
        assert any(v.endswith("jan") for v in values) and any(v.endswith("feb") for v in values)
        jan = tree.node_for(("iter", "each", ("jan",)))
        assert jan is not None
        count = jan.children[0]
        assert count.data is not None and count.data.task_run_id is not None
        assert "✔ count" in str(count.label)

    workbench.run(check)


def test_x_cancels_the_running_execution(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "slow")
        await run_selected(app, pilot, state="RUNNING")
        await wait_until(pilot, lambda: "waiting" in log_messages(app))
        await pilot.press("x")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished, 20)
        assert app.shown is not None and app.shown.execution.state.value == "KILLED"
        await wait_for_text(pilot, app, "■ wait")

    workbench.run(check)


def test_shift_r_reruns_the_last_execution_with_the_same_inputs(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen))
        app.screen.query_one("#input-name").value = "Linus"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished)
        first = app.shown
        assert first is not None
        await pilot.press("R")
        await wait_until(pilot, lambda: app.shown is not first and app.shown is not None
                         and app.shown.finished)
        assert not isinstance(app.screen, InputsScreen), "R does not ask again"
        assert app.shown is not None
        assert app.shown.execution.inputs["name"] == "Linus"
        assert app.shown.id != first.id

    workbench.run(check)


def test_r_on_an_invalid_flow_refuses_with_the_error_position(workbench: Workbench) -> None:
    (workbench.flows / "broken.yml").write_text(
        "id: broken\nnamespace: tui.tests\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Logg\n"
        "    message: hi\n")

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "broken")
        await pilot.press("r")
        await wait_until(pilot, lambda: any("fix them first" in n and "5:" in n for n in notices(app)),
                         what=f"the refusal (notices: {notices(app)})")
        assert app.shown is None

    workbench.run(check)


def test_history_lists_past_executions_and_opens_one_like_a_live_run(workbench: Workbench) -> None:
    executions: list[str] = []

    async def first(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "report")
        await run_selected(app, pilot)
        assert app.shown is not None
        executions.append(app.shown.id)

    workbench.run(first)

    async def second(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await pilot.press("5")
        history = app.main.query_one(HistoryPane)
        # The row as a user reads it, every column at its full width (DataTable once painted
        # fresh rows at the header's widths: "SUCCE  tui.  2026-12" until the cursor moved).
        await wait_for_text(pilot, app, re.compile(
            r"✔\s+SUCCESS\s+tui\.tests\.report\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+"
            + executions[0]))
        assert history.row_count == 1
        assert history.has_focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.flow_key == "tui.tests.report")
        assert app.main.query_one(FlowList).selected_path == workbench.flows / "report.yml"
        await wait_for_text(pilot, app, "✔ count", "✔ write")
        await wait_until(pilot, lambda: any("counting jan" in m for m in log_messages(app)),
                         what="the execution's logs")

    workbench.run(second)


def test_selecting_a_flow_shows_its_last_execution_from_history(workbench: Workbench) -> None:
    async def first(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "fails")
        await run_selected(app, pilot)

    workbench.run(first)

    async def second(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "fails")
        await wait_until(pilot, lambda: app.shown is not None)
        await wait_for_text(pilot, app, "✘ check")

    workbench.run(second)


def test_an_internal_error_is_one_line_and_a_log_file_not_a_traceback(
        workbench: Workbench, tmp_path: Path) -> None:
    app = workbench.app()
    app.crash_log = tmp_path / "errors.log"

    def broken() -> None:
        raise RuntimeError("a bug in a key handler")

    app.action_toggle_auto_run = broken  # type: ignore[method-assign]

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.catalog is not None)
            await pilot.press("a")
            await pilot.pause()

    with pytest.raises(RuntimeError):
        asyncio.run(main())
    assert "a bug in a key handler" in app.crash_log.read_text()
    assert "Traceback" in app.crash_log.read_text()
    assert app.crash_message == (f"roost: the workbench stopped on an internal error: "
                                 f"RuntimeError('a bug in a key handler') (details in {app.crash_log})")


def test_a_paused_execution_shows_paused_and_u_resumes_it(workbench: Workbench) -> None:
    (workbench.flows / "gate.yml").write_text("""
id: gate
namespace: tui.tests
tasks:
  - id: approve
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: approved
""")

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "gate")
        await run_selected(app, pilot, state="PAUSED")
        await wait_until(pilot, lambda: any("paused at approve" in n for n in notices(app)))
        await wait_for_text(pilot, app, "⏸ approve")
        await pilot.press("u")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished)
        assert app.shown is not None and app.shown.execution.state.value == "SUCCESS"
        assert "approved" in log_messages(app)

    workbench.run(check)


def test_a_file_input_takes_a_picked_path_and_runs_with_it(workbench: Workbench, tmp_path: Path) -> None:
    from textual.widgets import DirectoryTree

    from tui.screens.inputs_form import FilePickerScreen

    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("a,b\n1,2\n")
    (workbench.flows / "upload.yml").write_text("""
id: upload
namespace: tui.tests
inputs:
  - id: rows
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "got {{ inputs.rows }}"
""")

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "upload")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen))
        form = app.screen
        form.query_one("#input-rows").value = str(data)  # type: ignore[attr-defined]
        await pilot.click("#input-rows-browse")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerScreen))
        picker = app.screen
        tree = picker.query_one(DirectoryTree)
        await wait_until(pilot, lambda: any(
            n.data is not None and n.data.path.name == "rows.csv" for n in tree.root.children))
        node = next(n for n in tree.root.children if n.data and n.data.path.name == "rows.csv")
        tree.select_node(node)
        await wait_until(pilot, lambda: app.screen is form)
        assert form.query_one("#input-rows").value == str(data / "rows.csv")  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.finished)
        message = next(m for m in log_messages(app) if m.startswith("got "))
        assert message.startswith("got kestra:///tui/tests/upload/executions/")
        assert message.endswith("/inputs/rows/rows.csv")

    workbench.run(check)
