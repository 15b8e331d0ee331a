"""The Debug pane and the footer's pause keys, kept on the shown execution's pause.

The pause keys (``n c k . !``) are enabled only while the shown execution waits before a task
(:meth:`~tui.app.debug_control.DebugControl.keys_active`); Textual re-reads that only when
asked, so the footer is refreshed exactly when the pause changes, not on every frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.widgets.debug_pane import DebugPane

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.engine_port import PauseInspection

__all__ = ["DebugView", "paused_hint"]


def paused_hint(task_id: str) -> str:
    """The status bar while paused: where, and the keys that answer."""
    return (f"⏸ {task_id} · n next · c continue · k skip · . re-run · ! shell · : eval · "
            "x abort")


class DebugView:
    """Shows a pause (variables, properties) or, with nothing paused, the flow's breakpoints."""

    def __init__(self, host: AppHost) -> None:
        self._host = host
        self._keys_pause: PauseInspection | None = None

    def show_pause(self, pause: PauseInspection) -> None:
        self._host.main.query_one(DebugPane).show_pause(pause)
        self._keys_follow(pause)

    def show_idle(self, flow_name: str, breakpoints: frozenset[str]) -> None:
        self._host.main.query_one(DebugPane).show_idle(flow_name, breakpoints)
        self._keys_follow(None)

    def _keys_follow(self, pause: PauseInspection | None) -> None:
        if pause is not self._keys_pause:
            self._keys_pause = pause
            self._host.refresh_bindings()
