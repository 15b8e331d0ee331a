"""What the keys do: runs (r, x, R, u, a), artifacts (e, o, O) and pane keys; every action
also in the command palette."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from tui.models.artifacts import Artifact, ArtifactError, external_command
from tui.screens.artifact import ArtifactScreen, SaveArtifactScreen
from tui.screens.help import HelpScreen
from tui.screens.inputs_form import InputsScreen
from tui.screens.main import PANES, DetailTabs
from tui.widgets.files_pane import FilesPane
from tui.widgets.log_view import LogView
from tui.widgets.outputs_pane import OutputsPane
from tui.app.workbench import WorkbenchCore

if TYPE_CHECKING:
    pass

__all__ = ["CommandsMixin"]


class CommandsMixin(WorkbenchCore):
    """Actions behind the keys and the palette (mixed into :class:`~tui.app.roost_app.RoostApp`)."""

    def action_run(self, step: bool = False) -> None:
        """``r`` (``n``: ``step``, pausing before every task)."""
        entry = self.selected_entry
        if entry is None or self.session is None:
            self.notify("No flow selected", severity="warning")
            return
        if entry.errors or entry.flow is None:
            first = entry.first_error
            where = f" ({first.line}:{first.column} {first.message})" if first else ""
            self.notify(f"{entry.path.name} has errors; fix them first{where}", severity="error")
            return
        flow = entry.flow
        if flow.inputs:
            previous = self.last_inputs.get(flow.key)

            def submitted(values: dict[str, Any] | None) -> None:
                if values is not None:
                    self.start_run(flow, values, step=step)

            self.push_screen(InputsScreen(flow, previous), submitted)
            return
        self.start_run(flow, {}, step=step)

    def action_cancel(self) -> None:
        session = self.session
        if session is None:
            return
        model = self.shown
        if model is None or not session.is_running(model.id):
            running = session.running()
            if not running:
                self.notify("Nothing is running", severity="warning", timeout=2)
                return
            model = running[-1]
        session.cancel(model.id)
        self.notify(f"Cancelling {model.execution.flow_id}…", timeout=2)

    def action_resume(self) -> None:
        session = self.session
        model = self.shown
        if session is None or model is None or model.execution.state.value != "PAUSED":
            self.notify("Nothing is paused", severity="warning", timeout=2)
            return
        session.resume(model.id)
        self.notify(f"Resuming {model.execution.flow_id}…", timeout=2)

    def action_rerun(self) -> None:
        entry = self.selected_entry
        if entry is None or self.session is None:
            return
        model = self.shown
        if model is None:
            self.notify("Nothing to re-run yet: press r to run the flow", severity="warning")
            return
        if entry.errors or entry.flow is None:
            self.notify(f"{entry.path.name} has errors; fix them first", severity="error")
            return
        self.start_run(entry.flow, dict(model.raw_inputs))

    def action_toggle_auto_run(self) -> None:
        self.auto_run = not self.auto_run
        self.notify("Auto-run on save: on" if self.auto_run else "Auto-run on save: off",
                    timeout=2)
        self._update_status()

    def selected_artifact(self) -> Artifact | None:
        screen = self.screen
        if isinstance(screen, ArtifactScreen):
            return screen.artifact
        main = self.main
        pane = main.current_pane() or main.query_one(DetailTabs).active
        if pane == "files":
            return main.query_one(FilesPane).selected_artifact
        if pane == "outputs":
            return main.query_one(OutputsPane).selected_artifact
        return None

    def action_save_artifact(self) -> None:
        artifact = self.selected_artifact()
        if artifact is None:
            self.notify("Select an output file (Outputs) or a file (Files) to save it",
                        severity="warning", timeout=3)
            return

        def saved(path: Path | None) -> None:
            if path is not None:
                self.notify(f"Saved {artifact.name} to {path}", timeout=4)

        self.push_screen(SaveArtifactScreen(artifact), saved)

    def action_open_artifact(self, kind: str) -> None:
        artifact = self.selected_artifact()
        if artifact is None:
            self.notify("Select an output file (Outputs) or a file (Files) first",
                        severity="warning", timeout=3)
            return
        try:
            argv = external_command(kind, artifact.path)
        except ArtifactError as exc:
            self.notify(str(exc), severity="error")
            return
        try:
            with self.suspend():
                subprocess.run(argv, check=False)
        except Exception as exc:  # e.g. suspend is not possible in a browser
            self.notify(f"cannot open {artifact.name} here: {exc}", severity="error")

    def on_outputs_pane_artifact_opened(self, event: OutputsPane.ArtifactOpened) -> None:
        self.push_screen(ArtifactScreen(event.artifact))

    def on_files_pane_file_opened(self, event: FilesPane.FileOpened) -> None:
        self.push_screen(ArtifactScreen(event.artifact))

    # -- keys ----------------------------------------------------------------------------------

    def action_show_pane(self, pane: str) -> None:
        self.main.focus_pane(pane)

    def action_follow_logs(self) -> None:
        log_view = self.main.query_one(LogView)
        self.main.focus_pane("logs")
        log_view.follow = not log_view.follow

    def action_search_logs(self) -> None:
        self.main.focus_pane("logs")
        self.main.query_one(LogView).action_start_search()

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif screen.focused is not None:
            screen.maximize(screen.focused)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit_workbench(self) -> None:
        self.exit(0)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Run flow", "Run the selected flow (r)", self.action_run)
        yield SystemCommand("Cancel execution", "Cancel the running execution (x)",
                            self.action_cancel)
        yield SystemCommand("Re-run", "Re-run the last execution with the same inputs (R)",
                            self.action_rerun)
        yield SystemCommand("Resume execution", "Resume a paused execution (u)",
                            self.action_resume)
        yield SystemCommand("Toggle auto-run", "Run the flow when its file is saved (a)",
                            self.action_toggle_auto_run)
        yield SystemCommand("Follow logs", "Follow the end of the logs (f)",
                            self.action_follow_logs)
        yield SystemCommand("Search logs", "Search the logs (/)", self.action_search_logs)
        yield SystemCommand("Save artifact", "Save the selected output file (e)",
                            self.action_save_artifact)
        yield SystemCommand("Open in $PAGER", "Open the selected file in $PAGER (o)",
                            lambda: self.action_open_artifact("pager"))
        yield SystemCommand("Open in $EDITOR", "Open the selected file in $EDITOR (O)",
                            lambda: self.action_open_artifact("editor"))
        yield SystemCommand("Maximise pane", "Maximise or restore the focused pane (z)",
                            self.action_toggle_maximize)
        yield SystemCommand("Help", "Show every key (?)", self.action_help)
        for number, (pane, title) in enumerate(PANES, start=1):
            yield SystemCommand(f"Show {title}", f"Go to the {title} pane ({number})",
                                lambda pane=pane: self.action_show_pane(pane))
