"""Hot reload: the real watchfiles watcher sees saves; the tree follows, errors keep the last good."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot

from tests.tui.conftest import (
    Workbench,
    run_selected,
    screen_text,
    select_flow,
    wait_for_text,
    wait_until,
)
from tui.app.hot_reload import FlowFilesChanged
from tui.app.roost_app import RoostApp
from tui.widgets.banner import ErrorBanner
from tui.widgets.source_pane import SourcePane
from tui.widgets.task_tree import TaskTree

GREET_EXTRA_TASK = """
  - id: farewell
    type: io.kestra.plugin.core.log.Log
    message: "Bye, {{ inputs.name }}"
"""


def save(path: Path, text: str) -> None:
    """Save as editors do (write aside, then rename): the watcher never sees a half-written file."""
    aside = path.with_name(f".{path.name}.tmp")
    aside.write_text(text)
    os.replace(aside, path)


def insert_task(text: str) -> str:
    return text.replace("\noutputs:", GREET_EXTRA_TASK + "\noutputs:")


def test_saving_a_valid_flow_updates_the_tree_keeping_selection_and_expansion(
        workbench: Workbench) -> None:
    path = workbench.flows / "greet.yml"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        tree = app.main.query_one(TaskTree)
        node = tree.node_for(("task", "shout", ()))
        assert node is not None
        tree.focus()
        tree.move_cursor(node)
        await wait_until(pilot, lambda: tree.cursor_node is node, what="the cursor on shout")
        reloads = app.reload_count
        save(path, insert_task(path.read_text()))
        await wait_until(pilot, lambda: tree.node_for(("task", "farewell", ())) is not None,
                         what="the new task in the tree")
        assert app.reload_count > reloads
        assert tree.cursor_node is tree.node_for(("task", "shout", ()))
        await wait_for_text(pilot, app, "farewell")
        assert not app.main.query_one(ErrorBanner).has_class("-visible")

    workbench.run(check, watch=True)


def test_an_invalid_save_keeps_the_last_good_tree_and_shows_the_error(workbench: Workbench) -> None:
    path = workbench.flows / "greet.yml"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        good = path.read_text()
        save(path, good.replace("io.kestra.plugin.core.debug.Return", "io.kestra.plugin.core.debug.Retrun"))
        banner = app.main.query_one(ErrorBanner)
        await wait_until(pilot, lambda: "Retrun" in banner.message, what="the error banner")
        assert f"{path}:19:" in banner.message or "greet.yml:19:" in banner.message
        assert "last good version" in banner.message
        tree = app.main.query_one(TaskTree)
        assert tree.node_for(("task", "shout", ())) is not None, "the last good tree stays"
        # The banner is set first; the list, the tree title and Source repaint on the next frames.
        await wait_until(pilot, lambda: "(last good version)" in screen_text(app),
                         what="the tree title to say it is the last good version")
        await wait_until(pilot, lambda: "! greet" in screen_text(app), what="the flow list mark")
        source = app.main.query_one(SourcePane)
        await wait_until(pilot, lambda: any(line.startswith("✘19") for line in source.text_lines()),
                         what="the error marked in Source")
        # fixing the file clears it all
        save(path, good)
        await wait_until(pilot, lambda: not banner.has_class("-visible"), what="the banner to go")
        # As above: the tree title repaints a frame after the banner.
        await wait_until(pilot, lambda: "(last good version)" not in screen_text(app),
                         what="the tree title to drop 'last good version'")

    workbench.run(check, watch=True)


def test_new_and_deleted_flow_files_appear_and_disappear(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        assert app.catalog is not None
        save(workbench.flows / "extra.yaml",
            "id: extra\nnamespace: tui.more\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
            "    message: hi\n")
        await wait_for_text(pilot, app, "extra", "tui.more")
        (workbench.flows / "slow.yml").unlink()
        await wait_for_text(pilot, app, "extra", absent=("slow",))
        assert len(app.catalog.entries) == 4

    workbench.run(check, watch=True)


def test_namespace_file_changes_are_shown(workbench: Workbench) -> None:
    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        (workbench.flows / "namespaces" / "tui.tests" / "shared.py").write_text("shared = 2\n")
        await wait_until(pilot, lambda: any("Namespace files changed" in n.message
                                            and "tui.tests/shared.py" in n.message
                                            for n in app._notifications), what="a notice")

    workbench.run(check, watch=True)


def test_a_toggles_auto_run_on_save(workbench: Workbench) -> None:
    path = workbench.flows / "greet.yml"

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await select_flow(app, pilot, "greet")
        await run_selected(app, pilot)
        first = app.shown
        await pilot.press("a")
        assert app.auto_run
        await wait_for_text(pilot, app, "auto-run on")
        save(path, insert_task(path.read_text()))
        await wait_until(pilot, lambda: app.shown is not first and app.shown is not None
                         and app.shown.finished, what="the auto-run")
        assert app.shown is not None
        assert any(r.task_id == "farewell" for r in app.shown.task_runs.values())
        await pilot.press("a")
        assert not app.auto_run

    workbench.run(check, watch=True)


def test_a_flow_saved_before_the_watcher_started_is_caught_up_with(workbench: Workbench) -> None:
    """Between the first scan and the watcher's start a save has no event: the watcher's first
    batch (``catch_up``) reads every flow file again, so the new file appears, the removed one
    goes, and the unchanged ones count as no reload."""

    async def check(app: RoostApp, pilot: Pilot[int]) -> None:
        await wait_for_text(pilot, app, "greet", "slow")
        save(workbench.flows / "late.yml",
             "id: late\nnamespace: tui.late\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
             "    message: hi\n")
        (workbench.flows / "slow.yml").unlink()
        reloads = app.reload_count
        app.post_message(FlowFilesChanged([], catch_up=True))  # what the watcher posts first
        await wait_for_text(pilot, app, "late", "tui.late", absent=("slow",))
        assert app.reload_count == reloads + 1
        assert app.catalog is not None and len(app.catalog.entries) == 4
        app._hot_reload.files_changed([], catch_up=True)  # what that message runs: nothing changed since
        assert app.reload_count == reloads + 1

    workbench.run(check)  # no watcher: the test posts its first batch itself
