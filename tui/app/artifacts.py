"""Artifacts: the file selected in Outputs or Files (or previewed full screen) saved to a path
(``e``), opened in $PAGER or $EDITOR (``o``, ``O``), or previewed full screen (``enter``)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from tui.models.artifacts import Artifact, ArtifactError, external_command
from tui.screens.main import DetailTabs
from tui.widgets.files_pane import FilesPane
from tui.widgets.outputs_pane import OutputsPane

if TYPE_CHECKING:
    from tui.app.host import AppHost

__all__ = ["ArtifactCommands"]


class ArtifactCommands:
    """What ``e``, ``o``, ``O`` and ``enter`` do with an output file or a working-dir file."""

    def __init__(self, host: AppHost) -> None:
        self._host = host

    def selected(self) -> Artifact | None:
        """The artifact previewed full screen, else the one selected in the focused (or
        visible) Outputs or Files pane."""
        from tui.screens.artifact import ArtifactScreen  # (on use: the first paint needs none)

        host = self._host
        screen = host.screen
        if isinstance(screen, ArtifactScreen):
            return screen.artifact
        main = host.main
        pane = main.current_pane() or main.query_one(DetailTabs).active
        if pane == "files":
            return main.query_one(FilesPane).selected_artifact
        if pane == "outputs":
            return main.query_one(OutputsPane).selected_artifact
        return None

    def preview(self, artifact: Artifact) -> None:
        from tui.screens.artifact import ArtifactScreen

        self._host.push_screen(ArtifactScreen(artifact))

    def save(self) -> None:
        artifact = self.selected()
        if artifact is None:
            self._host.notify("Select an output file (Outputs) or a file (Files) to save it",
                              severity="warning", timeout=3)
            return

        def saved(path: Path | None) -> None:
            if path is not None:
                self._host.notify(f"Saved {artifact.name} to {path}", timeout=4)

        from tui.screens.artifact import SaveArtifactScreen

        self._host.push_screen(SaveArtifactScreen(artifact), saved)

    def open_externally(self, kind: str) -> None:
        """``kind``: "pager" or "editor"; the workbench is suspended while it runs."""
        artifact = self.selected()
        if artifact is None:
            self._host.notify("Select an output file (Outputs) or a file (Files) first",
                              severity="warning", timeout=3)
            return
        try:
            argv = external_command(kind, artifact.path)
        except ArtifactError as exc:
            self._host.notify(str(exc), severity="error")
            return
        try:
            with self._host.suspend():
                subprocess.run(argv, check=False)
        except Exception as exc:  # e.g. suspend is not possible in a browser
            self._host.notify(f"cannot open {artifact.name} here: {exc}", severity="error")
