"""``P``: replay the shown execution from the task selected in Tasks, with real runs: a fixed
flow succeeds reusing the task before and the directory as that task left it; without a
snapshot a modal offers the whole flow again; a running execution is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tests.tui.test_changes_pane import CHANGE_FLOWS, cursor_on
from tui.app.roost_app import RoostApp
from tui.models.run_model import ExecutionModel
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen


@pytest.fixture
def bench(workbench: Workbench) -> Workbench:
    """The workbench on a copy of tests/tui/change_flows."""
    folder = workbench.flows.parent / "change_flows"
    shutil.copytree(CHANGE_FLOWS, folder)
    return Workbench(folder, workbench.home, workbench.environ)


def notices(app: RoostApp) -> list[str]:
    return [n.message for n in app._notifications]


def messages(model: ExecutionModel, task_id: str) -> list[str]:
    """The log lines of ``task_id``'s run(s) in ``model``."""
    store = model.logs
    store.flush()
    return [e.message for e in store.get_many(0, len(store)) if e.task_id == task_id]


def fix_flow(bench: Workbench) -> None:
    path = bench.flows / "replay_fix.yml"
    path.write_text(path.read_text().replace("test -f fixed.flag", "echo fixed > fixed.txt"))


async def new_execution(app: RoostApp, pilot: Pilot[int], before: ExecutionModel) -> ExecutionModel:
    """Wait until another execution is shown and has finished."""
    await wait_until(pilot, lambda: app.shown is not None and app.shown is not before,
                     what=f"a new execution (notices: {notices(app)})")
    await wait_until(pilot, lambda: app.shown is not None and not app.shown.live, 30,
                     what="the new execution to finish")
    assert app.shown is not None
    return app.shown


def test_replay_from_a_fixed_task_reuses_the_task_before_and_restores_the_directory(
        bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "replay_fix")
        await run_selected(app, pilot)
        first = app.shown
        assert first is not None and first.execution.state.value == "FAILED"
        stamp = next(m for m in messages(first, "make") if m.startswith("stamp "))[6:]
        fix_flow(bench)

        await cursor_on(app, pilot, "check")
        await pilot.press("P")
        replay = await new_execution(app, pilot, first)

        assert replay.execution.state.value == "SUCCESS", messages(replay, "check")
        assert replay.execution.original_id == first.id
        assert app.latest[replay.flow_key] == replay.id
        make = messages(replay, "make")
        assert any(f"reused from execution {first.id}" in m for m in make), make
        assert not any(m.startswith("stamp ") for m in make)  # not run again
        # `check` found the directory as `make` left it in the first execution.
        assert f"found {stamp}" in messages(replay, "check")
        check_run = next(r for r in replay.task_runs.values() if r.task_id == "check")
        assert check_run.working_dir is not None
        folder = Path(check_run.working_dir)
        assert (folder / "stamp.txt").read_text().strip() == stamp
        assert (folder / "fixed.txt").read_text() == "fixed\n"
        await wait_until(pilot, lambda: any("working directory restored" in n for n in notices(app)),
                         what=f"the restore notice (notices: {notices(app)})")

    bench.run(check)


def test_replay_without_a_snapshot_offers_to_run_the_whole_flow_again(bench: Workbench) -> None:
    executions: list[str] = []

    async def first(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "replay_fix")
        await run_selected(app, pilot)
        assert app.shown is not None
        executions.append(app.shown.id)

    bench.run(first)
    shutil.rmtree(bench.home.snapshots / executions[0])
    fix_flow(bench)

    async def second(app: RoostApp, pilot: Pilot[int]) -> None:
        # A new workbench: the execution comes from the history.
        await select_flow(app, pilot, "replay_fix")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.id == executions[0],
                         what="the last execution from the history")
        original = app.shown
        assert original is not None
        await cursor_on(app, pilot, "check")

        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert "no snapshot of the working directory of 'workspace' before 'check'" in question.message
        await wait_for_text(pilot, app, "Cannot replay from 'check'", "Run the whole flow again? (y/n)")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the question to close")
        assert app.shown is original

        await pilot.press("P")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        rerun = await new_execution(app, pilot, original)
        assert rerun.execution.state.value == "SUCCESS"
        assert rerun.execution.original_id is None  # a normal run, every task ran
        assert any(m.startswith("stamp ") for m in messages(rerun, "make"))

    bench.run(second)


def test_a_running_execution_cannot_be_replayed_and_the_key_is_listed(bench: Workbench) -> None:
    path = bench.flows / "replay_fix.yml"
    path.write_text(path.read_text().replace("date +%s%N > stamp.txt", "sleep 30"))

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "replay_fix")
        await run_selected(app, pilot, state="RUNNING")
        running = app.shown
        await cursor_on(app, pilot, "make")
        await pilot.press("P")
        await wait_until(pilot, lambda: any("still RUNNING: replay it once it has finished" in n
                                            for n in notices(app)),
                         what=f"the refusal (notices: {notices(app)})")
        assert app.shown is running
        await pilot.press("x")
        await wait_until(pilot, lambda: running is not None and not running.live, what="cancelled")

        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Replay from task", "Show Changes"} <= titles
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await wait_for_text(pilot, app, "replay from the task selected in Tasks")

    bench.run(check)
