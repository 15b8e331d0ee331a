"""The Changes pane, from real runs: the files each task of a shared working directory added,
modified and deleted, with sizes; previews from the snapshots (content, old content, diff);
grouped per task for the WorkingDirectory; live while the run goes on; from the history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import Workbench, run_selected, select_flow, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.models.previews import MessagePreview, TextPreview
from tui.screens.main import DetailTabs
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.task_tree import TaskTree

CHANGE_FLOWS = Path(__file__).resolve().parent / "change_flows"


@pytest.fixture
def bench(workbench: Workbench) -> Workbench:
    """The workbench on a copy of tests/tui/change_flows."""
    folder = workbench.flows.parent / "change_flows"
    shutil.copytree(CHANGE_FLOWS, folder)
    return Workbench(folder, workbench.home, workbench.environ)


def pane(app: RoostApp) -> ChangesPane:
    return app.main.query_one(ChangesPane)


def listed(app: RoostApp) -> list[tuple[str, str, str, int | None, int | None]]:
    """(task, kind, path, size before, size after) of every file the pane lists."""
    return [(f.task_id, f.change.kind.value, f.change.path, f.change.size_before,
             f.change.size_after) for f in pane(app).shown_files]


async def cursor_on(app: RoostApp, pilot: Pilot[int], task_id: str) -> None:
    """Put the Tasks cursor on ``task_id``, as the arrow keys would."""
    tree = app.main.query_one(TaskTree)
    node = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                if n is not None and n.data is not None and n.data.task_id == task_id)
    tree.move_cursor(node)
    await wait_until(pilot, lambda: app.selected_item is not None
                     and app.selected_item.task_id == task_id, what=f"cursor on {task_id}")


async def highlight_file(app: RoostApp, pilot: Pilot[int], path: str) -> None:
    """Move the Changes cursor to ``path`` and wait for its preview."""
    tree = pane(app).change_tree
    node = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                if n is not None and n.data is not None and n.data.change.path == path)
    tree.move_cursor(node)
    view = pane(app).preview
    await wait_until(pilot, lambda: view.preview is not None and view.title == path,
                     what=f"the preview of {path}")


def preview_text(app: RoostApp) -> str:
    shown = pane(app).preview.preview
    if isinstance(shown, TextPreview):
        return shown.text
    assert isinstance(shown, MessagePreview), shown
    return shown.message


def test_changes_lists_what_each_task_added_modified_and_deleted_with_previews(
        bench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "workdir_changes")
        await run_selected(app, pilot)
        assert app.shown is not None and app.shown.execution.state.value == "SUCCESS"
        await pilot.press("8")
        assert app.main.query_one(DetailTabs).active == "changes"
        # Nothing selected in Tasks yet: the whole execution, grouped per task.
        await wait_until(pilot, lambda: {task for task, *_ in listed(app)} == {"write", "edit"},
                         what=f"the changes of write and edit (listed: {listed(app)})")
        await wait_for_text(pilot, app, "6 changes by 3 tasks")

        await cursor_on(app, pilot, "write")
        expected_write = [("write", "added", "notes.txt", None, 17),
                          ("write", "added", "out/data.csv", None, 14),
                          ("write", "added", "tmp.txt", None, 13)]
        await wait_until(pilot, lambda: listed(app) == expected_write,  # follows the tree's frame
                         what=f"write's changes (listed: {listed(app)})")
        await wait_for_text(pilot, app, "+ out/data.csv  14 B", "+ tmp.txt  13 B", "3 added (+44 B)")

        await cursor_on(app, pilot, "edit")
        expected_edit = [("edit", "modified", "notes.txt", 17, 18),
                          ("edit", "added", "summary.json", None, 9),
                          ("edit", "deleted", "tmp.txt", 13, None)]
        await wait_until(pilot, lambda: listed(app) == expected_edit,  # follows the tree's frame
                         what=f"edit's changes (listed: {listed(app)})")
        await wait_for_text(pilot, app, "~ notes.txt  17 B → 18 B", "- tmp.txt  13 B",
                            "+ summary.json  9 B", "1 added, 1 modified, 1 deleted (-3 B)")

        await highlight_file(app, pilot, "notes.txt")
        await wait_until(pilot, lambda: isinstance(pane(app).preview.preview, TextPreview),
                         what="the diff preview of notes.txt")
        shown = pane(app).preview.preview
        assert isinstance(shown, TextPreview) and shown.lexer == "diff"
        assert shown.text.splitlines()[-4:] == [" alpha", "-beta", "+BETA!", " gamma"]
        await wait_for_text(pilot, app, "+BETA!")

        await highlight_file(app, pilot, "tmp.txt")
        assert preview_text(app) == "scratch line\n"  # the old content of a deleted file
        await highlight_file(app, pilot, "summary.json")
        assert preview_text(app) == '{"ok":1}\n'  # the content of an added file

        await cursor_on(app, pilot, "workspace")  # the WorkingDirectory: grouped per child
        grouped = [("write", "added", "notes.txt"), ("write", "added", "out/data.csv"),
                   ("write", "added", "tmp.txt"), ("edit", "modified", "notes.txt"),
                   ("edit", "added", "summary.json"), ("edit", "deleted", "tmp.txt")]
        await wait_until(pilot, lambda: [(t, k, p) for t, k, p, *_ in listed(app)] == grouped,
                         what=f"the working directory's changes (listed: {listed(app)})")  # after the tree's frame
        await wait_for_text(pilot, app, "6 changes by 3 tasks", "linger  no changes")

        await cursor_on(app, pilot, "hello")  # outside any working directory
        await wait_until(pilot, lambda: pane(app).has_class("-empty")
                         and "no file changes recorded" in pane(app).message,
                         what=f"no changes for hello (message: {pane(app).message!r})")

    bench.run(check)


def test_changes_follow_a_live_run(bench: Workbench) -> None:
    # linger waits (a minute at most) until the test has seen the changes: the run is live then
    release = bench.flows.parent / "release-linger"
    path = bench.flows / "workdir_changes.yml"
    path.write_text(path.read_text().replace(
        "sleep 0", f"i=0; while [ ! -e {release} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"))

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "workdir_changes")
        await pilot.press("8")
        await run_selected(app, pilot, state="RUNNING")
        # The whole execution is selected: each task's changes appear as it ends.
        await wait_until(pilot, lambda: {f.task_id for f in pane(app).shown_files} == {"write", "edit"},
                         what="the changes of write and edit")
        assert app.shown is not None and app.shown.live  # still running: linger waits
        await wait_for_text(pilot, app, "~ notes.txt  17 B → 18 B")
        release.touch()
        await wait_until(pilot, lambda: app.shown is not None and not app.shown.live,
                         what="the run to end once linger is released")
        assert app.shown.execution.state.value == "SUCCESS"

    bench.run(check)


def test_changes_of_a_past_execution_and_a_missing_snapshot(bench: Workbench) -> None:
    executions: list[str] = []

    async def first(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "workdir_changes")
        await run_selected(app, pilot)
        assert app.shown is not None
        executions.append(app.shown.id)

    bench.run(first)
    # A new workbench shows the flow's last execution from the history.
    shutil.rmtree(bench.home.snapshots / executions[0])

    async def second(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "workdir_changes")
        await wait_until(pilot, lambda: app.shown is not None and app.shown.id == executions[0],
                         what="the last execution from the history")
        await pilot.press("8")
        await cursor_on(app, pilot, "edit")
        await wait_until(pilot, lambda: [path for _task, _kind, path, *_ in listed(app)] == [
            "notes.txt", "summary.json", "tmp.txt"], what=f"edit's changes (listed: {listed(app)})")
        await highlight_file(app, pilot, "tmp.txt")
        assert preview_text(app).startswith(
            "no snapshot of the directory before edit, so tmp.txt cannot be shown: "
            "no snapshot was recorded")
        await wait_for_text(pilot, app, "cannot be shown")

    bench.run(second)
