"""Roost's workbench: ``roost [PATH]`` opens it on a flow file or a folder of flows.

:class:`RoostApp` is the core (:mod:`tui.app.workbench`) with its keys (:mod:`tui.app.commands`),
history (:mod:`tui.app.history_browser`), hot reload (:mod:`tui.app.hot_reload`), triggers
(:mod:`tui.app.trigger_control`), step-through debugging (:mod:`tui.app.debug_control`), the Changes
pane (:mod:`tui.app.changes_control`) and replay from a task (:mod:`tui.app.replay_control`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from tui.app.changes_control import ChangesControlMixin
from tui.app.commands import CommandsMixin
from tui.app.debug_control import DebugControlMixin
from tui.app.history_browser import HistoryMixin
from tui.app.hot_reload import HotReloadMixin
from tui.app.replay_control import ReplayControlMixin
from tui.screens.main import PANES
from tui.app.trigger_control import TriggerControlMixin

__all__ = ["RoostApp", "run_workbench"]


class RoostApp(DebugControlMixin, CommandsMixin, HistoryMixin, HotReloadMixin,
               TriggerControlMixin, ChangesControlMixin, ReplayControlMixin):
    """The workbench. ``path``: a flow file or a folder of flows."""

    CSS_PATH = Path(__file__).parent.parent / "roost.tcss"
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
    from engine.core.config import RoostHome

    app.crash_log = RoostHome.from_environment().root / "workbench-errors.log"
    result = app.run()
    return int(result or 0)
