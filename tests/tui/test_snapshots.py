"""Snapshots of the main screens (pytest-textual-snapshot), from real runs with a frozen clock.

Ids and times are made deterministic by patching the engine's id and clock functions; the flows
folder and ROOST_HOME are relative paths under a temporary working directory, so nothing on
screen depends on the machine. Update with ``pytest tests/tui/test_snapshots.py --snapshot-update``
after checking the new SVGs by eye.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.core.config import RoostHome
from tests.tui.conftest import FLOWS, screen_text, wait_for_text, wait_until
from tui.app.roost_app import RoostApp
from tui.screens.inputs_form import InputsScreen
from tui.widgets.flow_list import FlowList
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane

FIXED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SIZE = (120, 34)


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RoostApp]:
    """An app on a copy of tests/tui/flows, with deterministic ids, clock and paths."""
    shutil.copytree(FLOWS, tmp_path / "flows")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    counter = itertools.count(1)

    def fixed_id() -> str:
        return f"id{next(counter):020d}"

    for target in ("engine.execution.executor.new_id", "engine.execution.task_lifecycle.new_id",
                   "engine.execution.replay_copier.new_id", "engine.tasks.scripts.new_id"):
        monkeypatch.setattr(target, fixed_id)
    for target in ("engine.execution.run_state.utcnow", "engine.execution.variables.utcnow",
                   "engine.core.records.utcnow", "engine.execution.task_context.utcnow",
                   "tui.models.formatting.now"):
        monkeypatch.setattr(target, lambda: FIXED)
    monkeypatch.setattr(RoostApp, "_frame", lambda self: 0)
    environ = dict(os.environ)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    app = RoostApp(Path("flows"), home=RoostHome(Path("home")), watch=False, environ=environ)
    yield app
    time.tzset()


async def _select(app: RoostApp, pilot: Pilot[Any], flow_id: str) -> None:
    await wait_until(pilot, lambda: app.catalog is not None)
    assert app.catalog is not None
    entry = next(e for e in app.catalog.entries.values() if e.flow_id == flow_id)
    app.main.query_one(FlowList).select_path(entry.path)
    await wait_until(pilot, lambda: app.selected_path == entry.path)


async def _run(app: RoostApp, pilot: Pilot[Any], until: Any) -> None:
    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen) or app.shown is not None,
                     what="the inputs form or the run")
    if isinstance(app.screen, InputsScreen):
        await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.shown is not None and until(app.shown))


def _quiet(app: RoostApp) -> None:
    app.clear_notifications()


async def _log_count_shown(app: RoostApp, pilot: Pilot[Any]) -> None:
    """The log pane's line count is repainted on a timer: wait until it is the final one."""
    log_view = app.main.query_one(LogView)
    await wait_until(pilot, lambda: f"{len(log_view.view):,} line" in screen_text(app),
                     what="the log line count to catch up")


def test_idle(frozen: RoostApp, snap_compare: Any) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "greet")
        await wait_for_text(pilot, frozen, "No execution of greet yet: press r to run it.",
                            "· hello log.Log", "· shout debug.Return")

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)


def test_running(frozen: RoostApp, snap_compare: Any) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "slow")
        await _run(frozen, pilot, lambda model: len(model.logs) >= 1
                   and model.execution.state.value == "RUNNING")
        await wait_for_text(pilot, frozen, "▶ RUNNING slow", "wait waiting", "wait shell.Commands",
                            "1 line · all levels")
        _quiet(frozen)

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)


def test_failed_with_error_banner(frozen: RoostApp, snap_compare: Any) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "fails")
        await _run(frozen, pilot, lambda model: model.finished and not model.live)
        await _log_count_shown(frozen, pilot)
        # then the file is saved with a mistake: the banner shows it, the tree stays
        path = Path("flows/fails.yml").absolute()
        path.write_text(path.read_text().replace("core.log.Log", "core.log.Logg"))
        frozen.apply_file_changes([path])
        await wait_for_text(pilot, frozen, "flows/fails.yml:15:11: task 'alert'",
                            "(last good version", "! fails", "5 lines · all levels",
                            "paused (f to follow)")  # the failed run put the cursor on its error
        _quiet(frozen)

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)


def test_outputs_preview_of_a_csv(frozen: RoostApp, snap_compare: Any) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "report")
        await _run(frozen, pilot, lambda model: model.finished and not model.live)
        await _log_count_shown(frozen, pilot)
        await pilot.press("2")
        pane = frozen.main.query_one(OutputsPane)
        tree = pane.output_tree
        node = next(n for n in (tree.get_node_at_line(i) for i in range(tree.last_line + 1))
                    if n is not None and n.data is not None and n.data.name == "people.csv")
        tree.move_cursor(node)
        await wait_until(pilot, lambda: pane.preview.title == "people.csv")
        await wait_for_text(pilot, frozen, "CSV · 3 columns · 2 rows · 36 B", "Grace", "▣ people.csv",
                            "profile · 2 rows")  # the DuckDB profile, computed in a worker
        _quiet(frozen)

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)


def test_inputs_form(frozen: RoostApp, snap_compare: Any) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _select(frozen, pilot, "greet")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(frozen.screen, InputsScreen))
        await wait_for_text(pilot, frozen, "Run tui.tests.greet", "Ada", "times  INT", "ctrl+s")

    assert snap_compare(frozen, terminal_size=SIZE, run_before=before)
