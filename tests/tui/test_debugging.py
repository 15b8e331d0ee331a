"""Step-through debugging in the workbench, driven by real runs: breakpoints (b), step mode (n),
the keys answering a pause (n c k . ! x), evaluation (:), the Debug pane, hot reload while
paused, and the same keys keeping their usual meaning when nothing is paused."""

from __future__ import annotations

import base64
import json
import re
import shutil
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from engine.core.records import TaskRun
from engine.execution.executor import ExecutionHandle
from tests.tui.conftest import Workbench, screen_text, select_flow, wait_for_text, wait_until
from tests.tui.test_snapshots import SIZE, _quiet, _select, frozen  # noqa: F401
from tui.app.debug_view import paused_hint
from tui.app.roost_app import RoostApp
from tui.screens.evaluate import EvaluateScreen
from tui.screens.main import DetailTabs
from tui.widgets.banner import ErrorBanner
from tui.widgets.debug_pane import DebugPane
from tui.widgets.files_pane import FilesPane
from tui.widgets.log_view import LogView
from tui.widgets.status_bar import StatusBar
from tui.widgets.task_tree import TaskTree

DEBUG_FLOWS = Path(__file__).resolve().parent / "debug_flows"
SECRET = "s3cr3t-token-value"


@pytest.fixture
def bench(workbench: Workbench) -> Workbench:
    """The workbench on tests/tui/debug_flows, with the secret the ``debug`` flow reads."""
    folder = workbench.flows.parent / "debug_flows"
    shutil.copytree(DEBUG_FLOWS, folder)
    environ = dict(workbench.environ)
    environ["SECRET_API_TOKEN"] = base64.b64encode(SECRET.encode()).decode()
    return Workbench(folder, workbench.home, environ)


def notices(app: RoostApp) -> list[str]:
    return [n.message for n in app._notifications]


def handle_of(app: RoostApp) -> ExecutionHandle:
    assert app.session is not None and app.shown is not None
    return app.session.handles[app.shown.id]


def runs(app: RoostApp, task_id: str) -> list[TaskRun]:
    assert app.shown is not None
    return [r for r in app.shown.task_runs.values() if r.task_id == task_id]


def states(app: RoostApp, task_id: str) -> list[str]:
    return [r.state.value for r in runs(app, task_id)]


async def cursor_on(app: RoostApp, pilot: Pilot[int], task_id: str) -> None:
    """Focus Tasks and put the cursor on ``task_id``, as the arrow keys would."""
    tree = app.main.query_one(TaskTree)
    app.main.focus_pane("tasks")
    node = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                if n is not None and n.data is not None and n.data.task_id == task_id)
    tree.move_cursor(node)
    await wait_until(pilot, lambda: app.selected_item is not None
                     and app.selected_item.task_id == task_id, what=f"cursor on {task_id}")


async def paused_at(app: RoostApp, pilot: Pilot[int], task_id: str, *,
                    after: object = None) -> None:
    """Wait until the shown execution waits before ``task_id`` (a new pause, not ``after``)."""
    def waiting() -> bool:
        model = app.shown
        if model is None or model.paused is None or model.paused is after:
            return False
        inspection = model.paused.inspection
        return (inspection is not None and inspection.task_id == task_id
                and handle_of(app).paused is not None)

    await wait_until(pilot, waiting, what=f"a pause before {task_id} (notices: {notices(app)})")


async def finished(app: RoostApp, pilot: Pilot[int], state: str = "SUCCESS") -> None:
    await wait_until(pilot, lambda: app.shown is not None and app.shown.finished
                     and not app.shown.live, what="the end of the run")
    assert app.shown is not None
    assert app.shown.execution.state.value == state


async def evaluate(app: RoostApp, pilot: Pilot[int], expression: str) -> None:
    """``:`` then type ``expression`` and enter; returns once the Debug pane has its result."""
    pane = app.main.query_one(DebugPane)
    made = len(pane.evaluations)
    await pilot.press("colon")
    await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen), what="the prompt")
    field = app.screen.query_one("#evaluate-input")
    field.value = expression  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, EvaluateScreen)
                     and len(pane.evaluations) > made, what=f"the evaluation of {expression}")


def last_evaluation(app: RoostApp) -> Any:
    return app.main.query_one(DebugPane).evaluations[-1]


# -- breakpoints and stepping ------------------------------------------------------------------

def test_b_marks_a_breakpoint_kept_per_flow_and_the_run_pauses_there(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await cursor_on(app, pilot, "second")
        await pilot.press("b")
        await wait_for_text(pilot, app, "● · second")
        assert app.session is not None and app.session.runtime.history is not None
        stored = app.session.runtime.history.get_value("breakpoints:tui.debug.debug")
        assert json.loads(stored or "null") == ["second"]

        await pilot.press("r")
        await paused_at(app, pilot, "second")
        assert app.shown is not None
        assert app.shown.execution.state.value == "PAUSED"
        assert states(app, "first") == ["SUCCESS"] and states(app, "second") == ["PAUSED"]
        await wait_until(pilot, lambda: app.main.query_one(DetailTabs).active == "debug",
                         what="the Debug tab")
        await wait_until(pilot, lambda: app.main.query_one(StatusBar).info.debug
                         == paused_hint("second"), what="the status bar's pause keys")
        await wait_for_text(
            pilot, app, re.compile(r"\A.*⏸ second · n next · c continue · k skip · \. re-run · "
                                   r"! shell · : eval · x abort"),
            "paused before second (io.kestra.plugin.core.debug.Return) — breakpoint",
            "⏸ PAUSED", "⏸ second")

        # toggled while it runs: the live execution follows
        handle = handle_of(app)
        await pilot.press("b")
        assert handle.debugger.breakpoints == frozenset()
        await pilot.press("b")
        assert handle.debugger.breakpoints == frozenset({"second"})
        await pilot.press("c")
        await finished(app, pilot)

    bench.run(check)

    async def reopened(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await wait_until(pilot, lambda: re.search(r"● \S second", screen_text(app)),
                         what="the kept breakpoint")

    bench.run(reopened)


def test_s_starts_step_mode_and_n_runs_one_task_at_a_time(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await paused_at(app, pilot, "first")
        await wait_for_text(pilot, app, "— step")
        assert states(app, "first") == ["PAUSED"] and runs(app, "second") == []
        await pilot.press("n")
        await paused_at(app, pilot, "second")
        assert states(app, "first") == ["SUCCESS"] and states(app, "second") == ["PAUSED"]
        await pilot.press("n")
        await paused_at(app, pilot, "third")
        await pilot.press("n")
        await finished(app, pilot)
        assert [states(app, t) for t in ("first", "second", "third")] == [["SUCCESS"]] * 3

    bench.run(check)


def test_c_continues_without_pausing_again(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await paused_at(app, pilot, "first")
        await pilot.press("c")
        await finished(app, pilot)
        paused = [n for n in notices(app) if "paused before" in n]
        assert len(paused) == 1 and "paused before first" in paused[0]
        assert [states(app, t) for t in ("first", "second", "third")] == [["SUCCESS"]] * 3

    bench.run(check)


def test_k_skips_the_paused_task_and_the_next_shows_its_property_error(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await cursor_on(app, pilot, "second")
        await pilot.press("b", "r")
        await paused_at(app, pilot, "second")
        await pilot.press("k")
        await paused_at(app, pilot, "third")  # after a skip, it steps
        assert states(app, "second") == ["SKIPPED"]
        # third's message needs second's output, which does not exist: shown, in red
        pane = app.main.query_one(DebugPane)
        await wait_until(pilot, lambda: pane.pause is not None and pane.pause.task_id == "third",
                         what="the Debug pane on third")
        assert pane.pause is not None and "message" in pane.pause.property_errors
        await wait_for_text(pilot, app, "✘ message:")
        await pilot.press("k")
        await finished(app, pilot)
        assert states(app, "third") == ["SKIPPED"] and states(app, "first") == ["SUCCESS"]

    bench.run(check)


def test_x_while_paused_kills_the_execution(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await paused_at(app, pilot, "first")
        await pilot.press("x")
        await finished(app, pilot, "KILLED")
        assert states(app, "first") == ["KILLED"] and runs(app, "second") == []
        # the status bar (the top line) shows the end, and no pause keys are left
        await wait_for_text(pilot, app, re.compile(r"\A[^\n]*KILLED"), absent=(re.compile(r"\A[^\n]*⏸"),))

    bench.run(check)


def test_dot_reruns_the_task_that_finished_last_with_its_edited_definition(
        bench: Workbench) -> None:
    path = bench.flows / "debug.yml"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await cursor_on(app, pilot, "second")
        await pilot.press("b", "r")
        await paused_at(app, pilot, "second")
        await wait_for_text(pilot, app, "re-runs first")
        path.write_text(path.read_text().replace('"A {{ 1 + 1 }}"', '"A2 {{ 40 + 2 }}"'))
        app.apply_file_changes([path])
        await wait_until(pilot, lambda: any("Already ran" in n and "first" in n for n in notices(app)),
                         what=f"the notice that first already ran (notices: {notices(app)})")
        assert app.shown is not None
        before = app.shown.paused
        await pilot.press("full_stop")
        await paused_at(app, pilot, "second", after=before)
        first_runs = runs(app, "first")
        assert len(first_runs) == 2 and states(app, "first") == ["SUCCESS", "SUCCESS"]
        assert first_runs[-1].outputs == {"value": "A2 42"}
        await pilot.press("c")
        await finished(app, pilot)
        assert runs(app, "second")[-1].outputs["value"].startswith("B A2 42 ")

    bench.run(check)


def test_hot_reload_while_paused_runs_the_new_definition_and_names_the_change(
        bench: Workbench) -> None:
    path = bench.flows / "debug.yml"
    original = path.read_text()

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await cursor_on(app, pilot, "second")
        await pilot.press("b", "r")
        await paused_at(app, pilot, "second")
        # a broken save is not applied: the execution keeps the last good flow
        path.write_text(original.replace("type: io.kestra.plugin.core.debug.Return\n    format: \"B",
                                         "type: io.kestra.plugin.core.debug.Returnn\n    format: \"B"))
        app.apply_file_changes([path])
        banner = app.main.query_one(ErrorBanner)
        await wait_until(pilot, lambda: "Returnn" in banner.message, what="the error banner")
        assert not any("flow reloaded" in n for n in notices(app))
        path.write_text(original.replace('"B {{ outputs.first.value }}', '"NEW {{ outputs.first.value }}'))
        app.apply_file_changes([path])
        await wait_until(pilot, lambda: any("flow reloaded" in n and "changed second" in n
                                            for n in notices(app)),
                         what=f"the reload notice (notices: {notices(app)})")
        await pilot.press("c")
        await finished(app, pilot)
        assert runs(app, "second")[-1].outputs["value"] == "NEW A 2 token=********"

    bench.run(check)


# -- the shell ---------------------------------------------------------------------------------

def test_bang_opens_the_shell_in_the_paused_tasks_working_directory(
        bench: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shell = tmp_path / "fake-shell"
    shell.write_text("#!/bin/sh\necho shell-was-here > roost-marker.txt\n")
    shell.chmod(0o755)
    monkeypatch.setenv("SHELL", str(shell))

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "shared_dir")
        await cursor_on(app, pilot, "inspect")
        await pilot.press("b", "r")
        await paused_at(app, pilot, "inspect")
        pause = handle_of(app).paused
        assert pause is not None and pause.working_dir is not None
        folder = Path(pause.working_dir)
        assert folder.is_dir()
        files = app.main.query_one(FilesPane)
        await wait_until(pilot, lambda: files.root_path == folder, what="Files live in the task's folder")
        # under run_test the headless driver cannot suspend, as in a browser: it says so
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: any("cannot open here" in n and str(folder) in n
                                            for n in notices(app)),
                         what=f"the notice that no shell opens here (notices: {notices(app)})")
        assert not (folder / "roost-marker.txt").exists()
        # a terminal can: suspend stands in for the real one here (this test only)
        app.suspend = lambda: nullcontext()  # type: ignore[method-assign]
        await pilot.press("exclamation_mark")
        marker = folder / "roost-marker.txt"
        await wait_until(pilot, lambda: marker.exists(), what="the shell's marker file")
        assert marker.read_text() == "shell-was-here\n"
        await pilot.press("c")
        await finished(app, pilot)

    bench.run(check)


def test_bang_says_when_the_paused_task_has_no_working_directory(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await paused_at(app, pilot, "first")
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: any("first has no working directory" in n for n in notices(app)),
                         what=f"the notice (notices: {notices(app)})")
        await pilot.press("x")
        await finished(app, pilot, "KILLED")

    bench.run(check)


# -- evaluation and the Debug pane ----------------------------------------------------------------

def test_colon_evaluates_while_paused_after_the_run_and_shows_errors(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("colon")
        await wait_until(pilot, lambda: any("No execution shown" in n for n in notices(app)),
                         what=f"the notice (notices: {notices(app)})")
        assert not isinstance(app.screen, EvaluateScreen)

        await pilot.press("s")
        await paused_at(app, pilot, "first")
        await pilot.press("n")
        await paused_at(app, pilot, "second")
        await evaluate(app, pilot, "outputs.first.value")
        assert last_evaluation(app).ok and last_evaluation(app).text == '"A 2"'
        assert any('"A 2"' in n for n in notices(app))
        await evaluate(app, pilot, "secret('API_TOKEN')")
        assert last_evaluation(app).text == '"********"'
        await evaluate(app, pilot, "{{ outputs.first.value | nosuchfilter }}")
        error = last_evaluation(app)
        assert not error.ok and "nosuchfilter" in error.text and "Traceback" not in error.text
        await wait_for_text(pilot, app, "nosuchfilter")

        await pilot.press("c")
        await finished(app, pilot)
        await evaluate(app, pilot, "{{ outputs.second.value | upper }}")
        assert last_evaluation(app).ok
        assert last_evaluation(app).text == '"B A 2 TOKEN=********"'
        await wait_for_text(pilot, app, "B A 2 TOKEN=********", absent=(SECRET,))

    bench.run(check)


def test_debug_pane_shows_source_rendered_properties_masked_and_variables(
        bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await cursor_on(app, pilot, "second")
        await pilot.press("b", "r")
        await paused_at(app, pilot, "second")
        # the YAML at its line in the file, the properties rendered with the secret masked
        await wait_for_text(pilot, app, re.compile(r"10\s+- id: second"),
                            "format: B A 2 token=********", absent=(SECRET,))
        tree = app.main.query_one(DebugPane).variables_tree
        await wait_until(pilot, lambda: tree.labels()[:1] == ["inputs {0}"], what="the variables")
        labels = tree.labels()
        assert labels[:3] == ["inputs {0}", "vars {0}", "outputs {1}"]
        assert "  first {1}" in labels and "trigger" not in " ".join(labels)
        first = next(n for n in tree.root.children[2].children if str(n.label) == "first {1}")
        first.expand()
        await wait_until(pilot, lambda: '    value: "A 2"' in tree.labels(), what="first's value")
        await pilot.press("c")
        await finished(app, pilot)
        # not paused: how to use it, and the flow's breakpoints
        await wait_for_text(pilot, app, "Breakpoints in debug: second")

    bench.run(check)


# -- the keys mean what they did when nothing is paused ---------------------------------------

def test_n_c_k_keep_their_usual_meaning_when_nothing_is_paused(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.shown is not None)
        await finished(app, pilot)
        shown = app.shown
        await cursor_on(app, pilot, "second")
        await pilot.press("k")  # the tree's cursor up
        await wait_until(pilot, lambda: app.selected_item is not None
                         and app.selected_item.task_id == "first", what="cursor up")
        await pilot.press("k")  # up to the flow: Logs show every line
        await wait_until(pilot, lambda: app.selected_item is not None
                         and app.selected_item.kind == "flow", what="cursor on the flow")
        await pilot.press("1", "end", "c")  # Logs: copy the line
        await wait_until(pilot, lambda: "Copied line to the clipboard" in notices(app))
        assert "done B A 2 token=********" in app.clipboard
        await pilot.press("4", "n")  # Source: next validation error (none here: n is dimmed)
        await wait_until(pilot, lambda: "n Next error" in screen_text(app).splitlines()[-1],
                         what="Source's keys in the footer")
        assert app.shown is shown  # no run started
        assert not any("Not paused" in n for n in notices(app))

    bench.run(check)


# -- snapshot ------------------------------------------------------------------------------------

def test_snapshot_paused_debug_pane(frozen: RoostApp, snap_compare: Any) -> None:  # noqa: F811
    shutil.copy(DEBUG_FLOWS / "debug.yml", Path("flows") / "debug.yml")

    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "debug")
        frozen.main.focus_pane("tasks")
        await pilot.press("s")
        await wait_until(pilot, lambda: frozen.shown is not None and frozen.shown.paused
                         is not None and frozen.main.query_one(DebugPane).pause is not None)
        await wait_for_text(pilot, frozen, "⏸ PAUSED debug", "paused before first", "format: A 2",
                            "inputs {0}", "k Skip")
        _quiet(frozen)

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)


def test_typing_while_paused_goes_to_the_input_not_to_the_debugger(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "debug")
        app.main.focus_pane("tasks")
        await pilot.press("s")
        await paused_at(app, pilot, "first")
        pause = app.shown.paused if app.shown is not None else None
        await pilot.press("colon")
        await wait_until(pilot, lambda: isinstance(app.screen, EvaluateScreen))
        await pilot.press("apostrophe", "n", "c", "k", "full_stop", "apostrophe", "enter")
        pane = app.main.query_one(DebugPane)
        await wait_until(pilot, lambda: not isinstance(app.screen, EvaluateScreen)
                         and len(pane.evaluations) == 1, what="the evaluation")
        assert last_evaluation(app).expression == "'nck.'"
        assert last_evaluation(app).text == '"nck."'
        assert app.shown is not None and app.shown.paused is pause  # still before first
        # the log search is an Input on the main screen: its letters are not commands either
        await pilot.press("slash")
        search = app.main.query_one(LogView).query_one(Input)
        await wait_until(pilot, lambda: app.focused is search, what="the search field")
        await pilot.press("n", "c", "k", "exclamation_mark")
        await wait_until(pilot, lambda: search.value == "nck!", what=f"nck! typed (got {search.value!r})")
        assert app.shown.paused is pause
        assert handle_of(app).paused is not None and runs(app, "second") == []
        await pilot.press("escape")
        app.main.focus_pane("tasks")
        await pilot.press("x")
        await finished(app, pilot, "KILLED")

    bench.run(check)


def test_palette_and_help_list_the_debug_keys(bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Toggle breakpoint", "Step through flow", "Debug: next", "Debug: continue",
                "Debug: skip task", "Debug: re-run last task", "Debug: shell",
                "Evaluate expression"} <= titles
        await pilot.press("question_mark")
        await wait_for_text(pilot, app, "Debugging", "1 … 9", "n (paused)", "c (paused)",
                            "k (paused)", ". (paused)", "! (paused)", "x (paused)")

    bench.run(check, size=(140, 70))
