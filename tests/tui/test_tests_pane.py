"""The Tests pane on real runs: a flow's suites listed, a case run live to PASS or FAIL (expected
vs actual on screen), fixture tasks marked ◇ mocked in the tree and never run, ``A`` runs all,
``g`` goes to the failed assertion's task, and "Record as test" writes a suite that passes."""

from __future__ import annotations

import re
from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot

from tests.tui.conftest import Workbench, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.help import HelpScreen
from tui.screens.main import DetailTabs
from tui.widgets import tests_pane
from tui.widgets.task_tree import TaskTree

GREET_SUITE = """\
id: greet-tests
namespace: tui.tests
flowId: greet
testCases:
  - id: shouts
    type: io.kestra.core.tests.flow.UnitTest
    description: the name comes back in capitals
    fixtures:
      inputs:
        name: Bob
    assertions:
      - value: "{{ outputs.shout.value }}"
        taskId: shout
        equalTo: BOB
      - value: "{{ execution.outputs.shouted }}"
        equalTo: BOB
  - id: mocked-shout
    type: io.kestra.core.tests.flow.UnitTest
    description: a fixture stands in for shout
    fixtures:
      tasks:
        - id: shout
          outputs:
            value: whisper
    assertions:
      - value: "{{ outputs.shout.value }}"
        taskId: shout
        equalTo: ADA
        errorMessage: shout should shout
  - id: someday
    type: io.kestra.core.tests.flow.UnitTest
    disabled: true
    assertions:
      - value: "{{ outputs.hello }}"
        isNotNull: true
"""

OTHER_SUITE = """\
id: fails-tests
namespace: tui.tests
flowId: fails
testCases:
  - id: other-flows-case
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "1"
        equalTo: "1"
"""

TYPO_SUITE = """\
id: greet-typo
namespace: tui.tests
flowId: greet
testCases:
  - id: typo-case
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      tasks:
        - id: shoutt
    assertions:
      - value: "{{ outputs.hello }}"
        isNull: true
"""


def _write_suites(workbench: Workbench) -> Path:
    path = workbench.flows / "greet.test.yml"
    path.write_text(GREET_SUITE)
    (workbench.flows / "fails.test.yml").write_text(OTHER_SUITE)
    return path


def _notices(app: RoostApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _table(app: RoostApp) -> tests_pane.CaseTable:
    return app.main.query_one(tests_pane.TestsPane).table


def _row_line(case_id: str, verdict: str) -> re.Pattern[str]:
    """The case's row as painted: its symbol and word ("✔ PASS"), then its id."""
    symbol, word = verdict.split(" ", 1)
    return re.compile(rf"{re.escape(symbol)}\s+{re.escape(word)}\s+{re.escape(case_id)}\s")


async def _open_tests(app: RoostApp, pilot: Pilot[int], flow_id: str = "greet") -> None:
    await select_flow(app, pilot, flow_id)
    await pilot.press("9")
    await wait_until(pilot, lambda: app.main.query_one(DetailTabs).active == "tests",
                     what="the Tests pane")
    await wait_until(pilot, lambda: app.screen.focused is _table(app), what="the case table focus")


async def _cursor_to(app: RoostApp, pilot: Pilot[int], case_id: str) -> None:
    table = _table(app)
    ids = [row.case_id for row in table.rows_shown]
    table.move_cursor(row=ids.index(case_id))
    await wait_until(pilot, lambda: table.selected is not None
                     and table.selected.case_id == case_id, what=f"the cursor on {case_id}")


def test_the_pane_lists_the_selected_flows_suites_only(workbench: Workbench) -> None:
    suite = _write_suites(workbench)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        assert app.catalog is not None and app.catalog.get(suite) is None  # a suite, not a flow
        await _open_tests(app, pilot)
        text = await wait_for_text(
            pilot, app, _row_line("shouts", "· not run yet"),
            _row_line("mocked-shout", "· not run yet"),
            _row_line("someday", "↷ skipped (disabled)"),
            "the name comes back in capitals", "3 cases",
            absent=("other-flows-case",))
        assert "greet-tests" in text
        # a suite saved later is read again (the watcher's batch); one naming a task the flow
        # lacks is listed with the mistake, and its case does not run
        (workbench.flows / "greet.typo.test.yml").write_text(TYPO_SUITE)
        app.apply_file_changes([workbench.flows / "greet.typo.test.yml"])
        await wait_for_text(pilot, app, _row_line("typo-case", "· not run yet"), "4 cases",
                            re.compile(r"✘ greet\.typo\.test\.yml:9:15 test case 'typo-case': "
                                       r"the fixture's task 'shoutt' is not"))
        await _cursor_to(app, pilot, "typo-case")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("did you mean 'shout'" in n for n in _notices(app)),
                         what=f"the refusal (notices: {_notices(app)})")
        assert app.shown is None and app.session is not None and not app.session.models
        assert app.catalog is not None and len(app.catalog.entries) == 4  # still the 4 flows
        # another flow, its own suite
        await select_flow(app, pilot, "fails")
        await wait_for_text(pilot, app, _row_line("other-flows-case", "· not run yet"),
                            absent=("mocked-shout",))
        # a flow without suites says how to get one
        await select_flow(app, pilot, "slow")
        await wait_for_text(pilot, app, "No test suite for tui.tests.slow",
                            "Record as test", absent=("other-flows-case",))

    workbench.run(check)


def test_enter_runs_the_case_live_to_pass(workbench: Workbench) -> None:
    _write_suites(workbench)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await _open_tests(app, pilot)
        await _cursor_to(app, pilot, "shouts")
        await wait_for_text(pilot, app, re.compile(r"⏎ Run case\s+A Run all tests\s+g Go to task"))
        await pilot.press("enter")
        await wait_for_text(pilot, app, _row_line("shouts", "✔ PASS"), "1 passed")
        model = app.shown
        assert model is not None
        assert model.execution.labels.get("system.test") == "true"
        assert model.execution.inputs["name"] == "Bob"
        # like any run: its tasks in the tree, its logs in Logs
        await wait_for_text(pilot, app, re.compile(r"✔ hello log\.Log"),
                            re.compile(r"✔ shout debug\.Return"), f"execution {model.id}")
        assert not any(run.mocked for run in model.task_runs.values())
        assert any("Hello, Bob" in entry.message
                   for entry in model.logs.get_many(0, len(model.logs)))

    workbench.run(check)


def test_a_failing_case_shows_expected_and_actual_and_its_mocked_task(
        workbench: Workbench) -> None:
    _write_suites(workbench)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await _open_tests(app, pilot)
        await _cursor_to(app, pilot, "mocked-shout")
        await pilot.press("enter")
        text = await wait_for_text(
            pilot, app, _row_line("mocked-shout", "✘ FAIL"),
            re.compile(r"✘ \{\{ outputs\.shout\.value \}\}\s+equalTo\s+\(task shout\)"),
            re.compile(r"expected\s+\"ADA\""), re.compile(r"actual\s+\"whisper\""),
            re.compile(r"message\s+shout should shout"))
        assert "1 failed" in text
        # the fixture stood in for shout: marked in the tree, and it never ran
        tree_text = await wait_for_text(pilot, app,
                                        re.compile(r"✔ ◇ shout debug\.Return  mocked"))
        hello = next(line for line in tree_text.splitlines() if "hello log.Log" in line)
        assert "mocked" not in hello
        model = app.shown
        assert model is not None
        runs = {run.task_id: run for run in model.task_runs.values()}
        assert runs["shout"].mocked and runs["shout"].outputs == {"value": "whisper"}
        assert not runs["hello"].mocked

    workbench.run(check)


def test_g_goes_to_the_failed_assertions_task(workbench: Workbench) -> None:
    _write_suites(workbench)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await _open_tests(app, pilot)
        await _cursor_to(app, pilot, "mocked-shout")
        await pilot.press("enter")
        await wait_for_text(pilot, app, _row_line("mocked-shout", "✘ FAIL"))
        tree = app.main.query_one(TaskTree)
        tree.move_cursor(tree.node_for_task("hello"))
        await wait_until(pilot, lambda: app.selected_item is not None
                         and app.selected_item.task_id == "hello", what="the cursor on hello")
        _table(app).focus()
        await pilot.press("g")
        await wait_until(pilot, lambda: app.main.current_pane() == "tasks", what="Tasks focused")
        await wait_until(pilot, lambda: tree.cursor_node is not None
                         and tree.cursor_node.data is not None
                         and tree.cursor_node.data.task_id == "shout", what="the cursor on shout")
        assert app.selected_item is not None and app.selected_item.task_id == "shout"
        # the right-hand panes follow the task: their title names it
        await wait_for_text(pilot, app, re.compile(r"─ shout ─"))

    workbench.run(check)


def test_A_runs_every_case_of_the_flows_suites(workbench: Workbench) -> None:
    _write_suites(workbench)

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        assert app.session is not None
        await _open_tests(app, pilot)
        await pilot.press("A")
        await wait_for_text(pilot, app, _row_line("shouts", "✔ PASS"),
                            _row_line("mocked-shout", "✘ FAIL"),
                            _row_line("someday", "↷ skipped (disabled)"),
                            "3 cases · 1 passed · 1 failed · 1 skipped", timeout=60)
        # the last notice counts them the way `roost test` ends
        await wait_until(pilot, lambda: "Tests: 1 passed, 1 failed, 1 skipped" in _notices(app),
                         what=f"the summary (notices: {_notices(app)})")
        test_runs = [m for m in app.session.models.values()
                     if m.execution.labels.get("system.test") == "true"]
        assert len(test_runs) == 2  # the disabled case did not run

    workbench.run(check, timeout=90)


def test_record_as_test_writes_a_suite_that_passes(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert "Record as test" not in titles  # nothing finished to record yet
        await pilot.press("r")
        await wait_until(pilot, lambda: app.screen is not app.main, what="the inputs form")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.shown is not None and not app.shown.live
                         and app.shown.finished, what="the run to end")
        recorded_from = app.shown
        assert recorded_from is not None
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette),
                         what="the palette")
        await pilot.press(*"record as test")
        await wait_for_text(pilot, app, "Record as test")
        await pilot.press("enter")
        case_id = f"recorded-{recorded_from.id[:8]}"
        await wait_for_text(pilot, app, _row_line(case_id, "· not run yet"), "greet-recorded")
        written = workbench.flows / f"greet.{case_id}.test.yml"
        assert written.is_file()
        assert "equalTo: ADA" in written.read_text()
        assert app.main.query_one(DetailTabs).active == "tests"
        assert app.catalog is not None and app.catalog.get(written) is None
        # the round trip: the recorded case passes
        await wait_until(pilot, lambda: app.screen.focused is _table(app), what="focus")
        await pilot.press("enter")
        await wait_for_text(pilot, app, _row_line(case_id, "✔ PASS"))

    workbench.run(check)


def test_help_and_palette_list_the_tests_keys(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Show Tests", "Run test case", "Run all tests"} <= titles
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = await wait_for_text(pilot, app, "1 … 9", "Tests", "run every test case",
                                   "go to the task of the case's failed assertion",
                                   "Record as test")
        for key in ("A ", "g "):
            assert any(row.strip(" │").startswith(key) for row in text.splitlines()), key

    workbench.run(check, size=(140, 100))  # tall enough for the whole help
