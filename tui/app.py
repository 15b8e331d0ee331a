"""Roost's workbench: ``roost [PATH]`` opens it on a flow file or a folder of flows.

:class:`RoostApp` is the core (:mod:`tui.workbench`) with its keys (:mod:`tui.commands`),
history (:mod:`tui.history_browser`), hot reload (:mod:`tui.hot_reload`), triggers
(:mod:`tui.trigger_control`), step-through debugging (:mod:`tui.debug_control`), the Changes
pane (:mod:`tui.changes_control`) and replay from a task (:mod:`tui.replay_control`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from tui.changes_control import ChangesControlMixin
from tui.commands import CommandsMixin
from tui.debug_control import DebugControlMixin
from tui.history_browser import HistoryMixin
from tui.hot_reload import HotReloadMixin
from tui.replay_control import ReplayControlMixin
from tui.screens.main import PANES
from tui.trigger_control import TriggerControlMixin

__all__ = ["RoostApp", "run_workbench"]


class RoostApp(DebugControlMixin, CommandsMixin, HistoryMixin, HotReloadMixin,
               TriggerControlMixin, ChangesControlMixin, ReplayControlMixin):
    """The workbench. ``path``: a flow file or a folder of flows."""

    CSS_PATH = Path(__file__).parent / "roost.tcss"
    TITLE = "Roost"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run"),
        Binding("x", "cancel", "Cancel"),
        Binding("R", "rerun", "Re-run"),
        Binding("a", "toggle_auto_run", "Auto-run"),
        Binding("T", "toggle_triggers", "Triggers", show=False),
        Binding("u", "resume", "Resume", show=False),
        Binding("f", "follow_logs", "Follow", show=False),
        Binding("slash", "search_logs", "Search", show=False),
        Binding("e", "save_artifact", "Save", show=False),
        Binding("o", "open_artifact('pager')", "$PAGER", show=False),
        Binding("O", "open_artifact('editor')", "$EDITOR", show=False),
        Binding("z", "toggle_maximize", "Max", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit_workbench", "Quit"),
        *(Binding(str(n), f"show_pane('{pane}')", title, show=False)
          for n, (pane, title) in enumerate(PANES, start=1)),
    ]


def run_workbench(path: str | Path = ".") -> int:
    """``roost [PATH]``: open the workbench; returns the exit status."""
    target = Path(path)
    if not target.exists():
        print(f"roost: {target}: no such file or folder", file=sys.stderr)
        return 2
    app = RoostApp(target)
    from engine.config import RoostHome

    app.crash_log = RoostHome.from_environment().root / "workbench-errors.log"
    result = app.run()
    return int(result or 0)
