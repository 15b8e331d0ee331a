"""Fixtures for the workbench tests: a copy of tests/tui/flows, an isolated ROOST_HOME, and a
helper that drives the real app with Textual's Pilot (plain ``asyncio.run``, no plugin)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.core.config import RoostHome
from tui.app.roost_app import RoostApp

FLOWS = Path(__file__).resolve().parent / "flows"


@dataclass
class Workbench:
    """What a test needs: the flows folder, the home, and an environment for script tasks."""

    flows: Path
    home: RoostHome
    environ: dict[str, str]

    def app(self, path: Path | None = None, *, watch: bool = False) -> RoostApp:
        return RoostApp(path or self.flows, home=self.home, watch=watch, environ=self.environ)

    def run(self, test: Callable[[RoostApp, Pilot[int]], Awaitable[None]], *,
            path: Path | None = None, watch: bool = False, size: tuple[int, int] = (140, 44),
            timeout: float = 60) -> RoostApp:
        app = self.app(path, watch=watch)

        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await wait_until(pilot, lambda: app.catalog is not None)
                await test(app, pilot)

        asyncio.run(asyncio.wait_for(main(), timeout))
        return app


@pytest.fixture
def workbench(tmp_path: Path) -> Workbench:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    environ = dict(os.environ)
    # Like a user whose virtualenv is active: script tasks find its python.
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    return Workbench(flows, RoostHome(tmp_path / "home"), environ)


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 15,
                     what: str = "") -> None:
    """Let the app run until ``predicate()`` is true (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


async def select_flow(app: RoostApp, pilot: Pilot[Any], flow_id: str) -> None:
    """Highlight a flow in the list by its id, as the arrow keys would."""
    from tui.widgets.flow_list import FlowList

    assert app.catalog is not None
    entry = next(e for e in app.catalog.entries.values() if e.flow_id == flow_id)
    app.main.query_one(FlowList).select_path(entry.path)
    await wait_until(pilot, lambda: app.selected_path == entry.path, what=f"flow {flow_id}")
    await pilot.pause()


async def run_selected(app: RoostApp, pilot: Pilot[Any], *, state: str | None = None,
                       timeout: float = 30) -> None:
    """Press r (and run from the inputs form if one opens); wait for the end (or ``state``)."""
    from tui.screens.inputs_form import InputsScreen

    before = app.shown
    await pilot.press("r")
    await pilot.pause()
    if isinstance(app.screen, InputsScreen):
        await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: app.shown is not None and app.shown is not before,
                     what=f"the run to start (notices: {[n.message for n in app._notifications]})")
    if state is None:
        await wait_until(pilot, lambda: app.shown is not None and not app.shown.live
                         and app.shown.finished, timeout, what="the run to finish")
    else:
        await wait_until(pilot, lambda: app.shown is not None
                         and app.shown.execution.state.value == state, timeout, what=state)
    await pilot.pause()


def screen_text(app: RoostApp) -> str:
    """What the terminal shows, as plain text (what a user reads)."""
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join(strip.text.rstrip() for strip in strips)
