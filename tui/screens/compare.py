"""Two executions compared, over the whole terminal: the report `roost compare` prints, coloured."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.engine_port import render_report

if TYPE_CHECKING:
    from tui.engine_port import CompareReport

__all__ = ["CompareScreen", "styled_report"]

_STYLES = (("  ≠ ", "bold yellow"), ("  = ", "dim"), ("        -", "red"), ("        +", "green"),
           ("  -", "red"), ("  +", "green"), ("      - ", "red"), ("      + ", "green"))


def styled_report(text: str) -> Text:
    """The report's lines, a differing task in yellow, removed lines red and added ones green."""
    styled = Text()
    for line in text.splitlines():
        style = next((s for prefix, s in _STYLES if line.startswith(prefix)), "")
        if not line.startswith(" "):
            style = "bold"
        styled.append(line + "\n", style=style)
    return styled


class CompareScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Back")]

    DEFAULT_CSS = """
    CompareScreen #compare-title { height: 1; background: $panel; padding: 0 1; }
    CompareScreen VerticalScroll { padding: 0 1; }
    """

    def __init__(self, report: CompareReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        left, right = self.report.left, self.report.right
        yield Static(Text.assemble(("compare ", "bold"), left.id, ("  →  ", "dim"), right.id),
                     id="compare-title")
        with VerticalScroll():
            yield Static(styled_report(render_report(self.report)), id="compare-report")
        yield Footer()
