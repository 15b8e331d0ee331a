"""Full-screen preview of an artifact, and the "save to a path" dialog."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Static

from tui.models.artifacts import Artifact, ArtifactError, save_artifact
from tui.models.formatting import format_size
from tui.models.previews import build_preview
from tui.widgets.preview_view import PreviewView

__all__ = ["ArtifactScreen", "SaveArtifactScreen"]


class ArtifactScreen(Screen[None]):
    """The artifact's preview over the whole terminal; ``e``/``o``/``O`` work here too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("e", "app.save_artifact", "Save"),
        Binding("o", "app.open_artifact('pager')", "$PAGER"),
        Binding("O", "app.open_artifact('editor')", "$EDITOR"),
    ]

    DEFAULT_CSS = """
    ArtifactScreen #artifact-title { height: 1; background: $panel; padding: 0 1; }
    """

    def __init__(self, artifact: Artifact) -> None:
        super().__init__()
        self.artifact = artifact

    def compose(self) -> ComposeResult:
        try:
            size = format_size(self.artifact.path.stat().st_size)
        except OSError:
            size = "?"
        yield Static(Text.assemble(("▣ ", "#87d787"), (self.artifact.name, "bold"),
                                   f"  {size}  ", (self.artifact.label, "dim")),
                     id="artifact-title")
        yield PreviewView("loading…")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True)
    def _load(self) -> None:
        preview = build_preview(self.artifact.path, self.artifact.name)
        self.app.call_from_thread(self.query_one(PreviewView).show, preview, self.artifact.name)


class SaveArtifactScreen(ModalScreen[Path | None]):
    """Ask where to save; dismissed with the saved path (or None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    SaveArtifactScreen { align: center middle; }
    SaveArtifactScreen > Vertical { width: 80%; max-width: 90; height: auto;
                                    border: round $accent; background: $surface; padding: 0 1; }
    SaveArtifactScreen #save-error { color: $text-error; height: auto; }
    SaveArtifactScreen Horizontal { height: auto; align-horizontal: right; }
    SaveArtifactScreen Button { margin-left: 2; }
    """

    def __init__(self, artifact: Artifact, default_folder: Path | None = None) -> None:
        super().__init__()
        self.artifact = artifact
        self.default = (default_folder or Path.cwd()) / artifact.name
        self._confirm_overwrite: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble(("Save ", "bold"), (self.artifact.name, "bold #87d787"),
                                       (" to", "bold")))
            yield Input(str(self.default), id="save-path")
            yield Static("", id="save-error")
            with Horizontal():
                yield Button("Cancel", id="save-cancel")
                yield Button("Save", id="save-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save-ok")
    def _save(self) -> None:
        target = Path(self.query_one(Input).value.strip() or str(self.default)).expanduser()
        try:
            saved = save_artifact(self.artifact, target,
                                  overwrite=self._confirm_overwrite == target)
        except ArtifactError as exc:
            self._confirm_overwrite = target if "already exists" in str(exc) else None
            self.query_one("#save-error", Static).update(Text(f"✘ {exc}"))
            return
        self.dismiss(saved)

    @on(Button.Pressed, "#save-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
