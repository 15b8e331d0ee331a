"""Copy (``c`` and the palette): what is selected lands in the user's own clipboard.

Textual's ``copy_to_clipboard`` writes the text as an OSC 52 escape, which the terminal (or
tmux with ``set-clipboard on``, or the terminal at the far end of an SSH session) puts in
the local clipboard: no X display or clipboard tool on the machine Roost runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.screens.main import DetailTabs
from tui.widgets.files_pane import FilesPane
from tui.widgets.history_pane import HistoryPane
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane

if TYPE_CHECKING:
    from tui.app.host import AppHost

__all__ = ["COPY_KINDS", "ClipboardCommands"]

COPY_KINDS = ("value", "uri", "path", "execution_id", "log_line")
"""What the palette's copy entries name: ``copy('uri')`` and so on."""


class ClipboardCommands:
    def __init__(self, host: AppHost, shown_execution_id: Callable[[], str | None],
                 copy: Callable[[str], None]) -> None:
        self._host = host
        self._shown_execution_id = shown_execution_id
        self._copy = copy

    def copy(self, kind: str | None = None) -> None:
        """``kind`` None: what the focused pane has selected; else that kind of thing."""
        main = self._host.main
        pane = main.current_pane() or main.query_one(DetailTabs).active
        if kind == "log_line" or (kind is None and pane == "logs"):
            main.query_one(LogView).action_copy_line()
            return
        found = self._target(kind, pane)
        if found is None:
            wanted = {"value": "an output value (Outputs)", "uri": "an output file (Outputs)",
                      "path": "a file (Files or Outputs)", "execution_id": "an execution"}
            what = wanted.get(kind or "", "an output, a file, a log line or an execution")
            self._host.notify(f"Nothing to copy: select {what} first", severity="warning", timeout=3)
            return
        label, text = found
        self._copy(text)
        shown = text if len(text) <= 60 else text[:59] + "…"
        self._host.notify(f"Copied {label}: {shown}", timeout=2)

    def _target(self, kind: str | None, pane: str | None) -> tuple[str, str] | None:
        main = self._host.main
        if kind in (None, "value", "uri", "path") and (pane == "outputs" or kind in ("value", "uri")):
            outputs = main.query_one(OutputsPane)
            artifact = outputs.selected_artifact
            if artifact is not None and kind in (None, "uri") and artifact.uri:
                return "URI", artifact.uri
            if artifact is not None and kind == "path":
                return "path", str(artifact.path)
            value = outputs.selected_value_text
            if value is not None and kind in (None, "value"):
                return "value", value
        if kind in (None, "path") and (pane == "files" or kind == "path"):
            selected = main.query_one(FilesPane).selected_artifact
            if selected is not None:
                return "path", str(selected.path)
        if kind is None and pane == "history":
            execution_id = main.query_one(HistoryPane).selected_execution_id
            if execution_id is not None:
                return "execution id", execution_id
        if kind in (None, "execution_id"):
            execution_id = self._shown_execution_id()
            if execution_id is not None:
                return "execution id", execution_id
        return None
