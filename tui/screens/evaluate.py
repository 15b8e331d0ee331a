"""``:``: a one-line prompt for a Pebble expression to evaluate against the shown execution."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

__all__ = ["EvaluateScreen"]


class EvaluateScreen(ModalScreen[str | None]):
    """Returns the expression typed (enter), or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    EvaluateScreen { align: center middle; }
    EvaluateScreen > Vertical { width: 90; max-width: 95%; height: auto; border: round $accent;
                                background: $surface; padding: 0 1; }
    EvaluateScreen #evaluate-hint { color: $text-muted; }
    """

    def __init__(self, where: str, previous: str = "") -> None:
        super().__init__()
        self.where = where
        self.previous = previous

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble(("Evaluate ", "bold"), (self.where, "dim")),
                         id="evaluate-title")
            yield Input(self.previous, placeholder="outputs.task.value  or  {{ inputs.name | upper }}",
                        id="evaluate-input")
            yield Static("enter evaluates · esc closes · secrets show as ********",
                         id="evaluate-hint")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
