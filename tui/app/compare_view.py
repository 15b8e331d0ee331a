"""History's `=`: compare two executions (a worker reads both, diffs their files, then the
CompareScreen shows the report)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from tui.app.host import report_error
from tui.screens.compare import CompareScreen

if TYPE_CHECKING:
    from tui.app.host import AppHost
    from tui.app.workspace import Workspace

__all__ = ["CompareView"]


class CompareView:
    def __init__(self, host: AppHost, workspace: Workspace) -> None:
        self._host = host
        self._workspace = workspace

    def open(self, left: str, right: str) -> None:
        self._host.notify(f"comparing {left} with {right}…", timeout=2)
        self._host.run_worker(partial(self._compare_in_thread, left, right), name="compare",
                              group="compare", thread=True, exclusive=True)

    def _compare_in_thread(self, left: str, right: str) -> None:
        from tui.engine_port import compare_executions

        session = self._workspace.session
        history = session.runtime.history if session is not None else None
        if session is None or history is None:
            self._host.call_from_thread(self._host.notify, "No history to compare from",
                                        severity="warning", timeout=3)
            return
        try:
            history.flush()
            report = compare_executions(history, session.runtime.storage, left, right)
        except Exception as exc:  # an unknown id, an unreadable file: a notice, never a traceback
            self._host.call_from_thread(report_error, self._host, "comparing failed", exc)
            return
        self._host.call_from_thread(self._host.push_screen, CompareScreen(report))
