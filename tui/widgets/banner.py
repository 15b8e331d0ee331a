"""The error banner: an invalid flow (file:line:col) or an unexpected error, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from tui.engine_port import FlowError

__all__ = ["ErrorBanner"]


class ErrorBanner(Static):
    """Hidden until :meth:`show_errors`; clicking it opens Source at the error."""

    DEFAULT_CSS = """
    ErrorBanner { display: none; height: auto; max-height: 3; background: $error 25%;
                  color: $text; padding: 0 1; border-left: thick $error;
                  text-wrap: nowrap; text-overflow: ellipsis; }
    ErrorBanner.-visible { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.errors: list[FlowError] = []
        self.message = ""

    def show_errors(self, errors: list[FlowError], *, stale: bool) -> None:
        """Show a flow's validation errors (the first ones; Source has them all)."""
        self.errors = list(errors)
        if not errors:
            self.clear()
            return
        head = errors[0]
        first = Text(no_wrap=True, overflow="ellipsis")
        first.append("✘ ", style="bold #ff5f5f")
        first.append(f"{head.path}:{head.line}:{head.column}", style="bold")
        first.append(f": {head.message}")
        second = Text()
        if len(errors) > 1:
            second.append(f"+{len(errors) - 1} more (4 Source) · ", style="bold")
        second.append("showing the last good version of the flow" if stale
                      else "no valid version of this flow yet", style="italic #ffaf5f")
        second.append(" · fix and save: it reloads by itself", style="dim")
        self.message = f"{first.plain}\n{second.plain}"
        first.append("\n")
        first.append_text(second)
        self.update(first)
        self.add_class("-visible")

    def show_message(self, message: str) -> None:
        self.errors = []
        self.message = message
        self.update(Text.assemble(("✘ ", "bold #ff5f5f"), message))
        self.add_class("-visible")

    def clear(self) -> None:
        self.errors = []
        self.message = ""
        self.update("")
        self.remove_class("-visible")

    async def on_click(self) -> None:
        if self.errors:
            await self.app.run_action("show_pane('source')")
