"""Fixtures for the workbench tests: a copy of tests/tui/flows, an isolated ROOST_HOME, and a
helper that drives the real app with Textual's Pilot (plain ``asyncio.run``, no plugin)."""

from __future__ import annotations

import asyncio
import os
import re
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


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 30,
                     what: str = "") -> None:
    """Let the app run until ``predicate()`` is true (fails the test after ``timeout``).

    Wait for the very thing the test then asserts (the text on screen, the row count), never
    for a proxy of it: on a busy machine a repaint can come many frames after the state."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


def _found(wanted: str | re.Pattern[str], text: str) -> bool:
    return bool(wanted.search(text)) if isinstance(wanted, re.Pattern) else wanted in text


async def wait_for_text(pilot: Pilot[Any], app: RoostApp, *shown: str | re.Pattern[str],
                        absent: tuple[str | re.Pattern[str], ...] = (), timeout: float = 30) -> str:
    """Wait until the screen shows every one of ``shown`` (texts or regular expressions) and
    none of ``absent``; returns the screen's text. Fails with what is missing and the screen."""
    deadline = time.monotonic() + timeout
    while True:
        text = screen_text(app)
        missing = [s for s in shown if not _found(s, text)]
        present = [a for a in absent if _found(a, text)]
        if not missing and not present:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen never showed {missing} (or still showed {present}); "
                                 f"last screen:\n{text}")
        await pilot.pause(0.02)


async def select_flow(app: RoostApp, pilot: Pilot[Any], flow_id: str) -> None:
    """Highlight a flow in the list by its id, as the arrow keys would."""
    from tui.widgets.flow_list import FlowList

    assert app.catalog is not None
    entry = next(e for e in app.catalog.entries.values() if e.flow_id == flow_id)
    app.main.query_one(FlowList).select_path(entry.path)
    await wait_until(pilot, lambda: app.selected_path == entry.path, what=f"flow {flow_id}")


async def run_selected(app: RoostApp, pilot: Pilot[Any], *, state: str | None = None,
                       timeout: float = 30) -> None:
    """Press r (and run from the inputs form if one opens); wait for the end (or ``state``)."""
    from tui.screens.inputs_form import InputsScreen

    before = app.shown

    def started() -> bool:
        return app.shown is not None and app.shown is not before

    await pilot.press("r")
    # A flow with inputs opens the form first: ctrl+s runs it with the defaults.
    await wait_until(pilot, lambda: isinstance(app.screen, InputsScreen) or started(),
                     what=f"the inputs form or the run (notices: {[n.message for n in app._notifications]})")
    if isinstance(app.screen, InputsScreen):
        await pilot.press("ctrl+s")
    await wait_until(pilot, started,
                     what=f"the run to start (notices: {[n.message for n in app._notifications]})")
    if state is None:
        await wait_until(pilot, lambda: app.shown is not None and not app.shown.live
                         and app.shown.finished, timeout, what="the run to finish")
    else:
        await wait_until(pilot, lambda: app.shown is not None
                         and app.shown.execution.state.value == state, timeout, what=state)


def screen_text(app: RoostApp) -> str:
    """What the terminal shows, as plain text (what a user reads)."""
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join(strip.text.rstrip() for strip in strips)
