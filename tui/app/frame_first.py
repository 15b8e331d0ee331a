"""The frame first, the rest after it: what the workbench defers so a frame is never late.

* :class:`TreeMoves`: a move in Tasks is drawn first; Logs, Outputs, Files, Changes and Source
  follow once that frame is out, and only the last of quick moves is applied (refiltering a
  million log lines, or a layout for a hidden pane, must not hold the moved cursor back).
* :class:`Opening`: at start only the first flow is parsed (the first paint shows it); the
  others are parsed one per timer turn after that frame, so the footer's first frame and any
  key go between, then the flow list shows which do not load and the watcher starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.selection import Selection
    from tui.app.workspace import Workspace
    from tui.widgets.task_tree import TreeItem

__all__ = ["Opening", "TreeMoves"]

OPENING_STEP_SECONDS = 0.005
"""Between two flows parsed after the first paint: the event loop runs in between."""


class TreeMoves:
    """The tree cursor's moves, applied to the panes a frame later."""

    def __init__(self, host: AppHost, selection: Selection) -> None:
        self._host = host
        self._selection = selection
        self._pending: TreeItem | None = None

    def moved(self, item: TreeItem) -> None:
        """The cursor is on ``item`` (its frame is being drawn): the panes follow after it."""
        self._selection.selected_item = item
        if self._pending is None:
            self._host.call_after_refresh(self._apply)
        self._pending = item

    def _apply(self) -> None:
        item, self._pending = self._pending, None
        if item is not None and item is self._selection.selected_item:
            self._selection.select_item(item, shown_only=True)


class Opening:
    """The flows :meth:`Workspace.open` left unparsed, parsed after the first paint."""

    def __init__(self, host: AppHost, workspace: Workspace, selection: Selection,
                 when_done: Callable[[], object], reselect: Callable[[Path], object]) -> None:
        """``when_done``: called once every flow is parsed (the app starts its watcher);
        ``reselect``: shows the selected flow again, once parsed (the user got there first)."""
        self._host = host
        self._workspace = workspace
        self._selection = selection
        self._when_done = when_done
        self._reselect = reselect
        self._started = False

    def start(self) -> None:
        """The first flow is on screen (or there is none): go on after this frame, once."""
        if not self._started and not self._workspace.opened:
            self._started = True
            self._host.call_after_refresh(self._step)

    def _step(self) -> None:
        workspace, selected = self._workspace, self._selection.selected_path
        waiting = (selected is not None and workspace.catalog is not None
                   and workspace.catalog.unparsed(selected))
        done = workspace.finish_opening(1, prefer=selected)
        if waiting and selected is not None:
            self._reselect(selected)
        if not done:
            self._host.set_timer(OPENING_STEP_SECONDS, self._step)
            return
        if workspace.catalog is not None:
            self._selection.show_flows(workspace.catalog.sorted_entries())
        self._when_done()
