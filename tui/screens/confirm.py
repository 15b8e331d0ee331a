"""A yes/no question in a small modal: ``y`` answers yes, ``n`` or ``escape`` no."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Shows ``message`` and ``question``; returns True for y, False for n or escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 80; max-width: 95%; height: auto; border: round $warning;
                               background: $surface; padding: 0 1; }
    ConfirmScreen #confirm-message { padding-bottom: 1; }
    ConfirmScreen #confirm-question { text-style: bold; }
    """

    def __init__(self, message: str, question: str) -> None:
        super().__init__()
        self.message = message
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.message), id="confirm-message")
            yield Static(Text(self.question), id="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
