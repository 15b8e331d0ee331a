"""The flow's YAML, highlighted with pygments, with validation errors marked at their line.

Each error gets a red gutter mark on its line and the message right below it (as an editor's
diagnostics do); ``n``/``N`` jump between errors, and selecting a task in the tree scrolls to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.widgets.syntax_theme import SYNTAX_THEME_NAME, syntax_theme

if TYPE_CHECKING:
    from tui.engine_port import FlowError

__all__ = ["SourcePane", "render_source"]

SYNTAX_THEME = SYNTAX_THEME_NAME


def render_source(text: str, errors: list[FlowError], marked_line: int | None = None,
                  *, theme: str = SYNTAX_THEME) -> tuple[Text, dict[int, int]]:
    """The highlighted source with a line-number gutter and error notes; and line -> row."""
    # The theme's background, not Pygments' (nor the terminal's "default"): see syntax_theme.
    syntax = Syntax(text, "yaml", theme=syntax_theme(theme))
    highlighted = syntax.highlight(text)
    highlighted.rstrip()
    lines = list(highlighted.split("\n", allow_blank=True))
    if text.endswith("\n") and lines and not lines[-1].plain:
        lines = lines[:-1]
    by_line: dict[int, list[FlowError]] = {}
    for error in errors:
        by_line.setdefault(max(1, error.line), []).append(error)
    width = len(str(max(len(lines), 1)))
    out = Text(no_wrap=True, overflow="ignore", end="")
    rows: dict[int, int] = {}
    row = 0
    for number, line in enumerate(lines or [Text("")], start=1):
        rows[number] = row
        errors_here = by_line.get(number)
        if errors_here:
            gutter = Text(f"✘{number:>{width}} ", style="bold #ff5f5f")
            line = line.copy()
            line.stylize("on #3a1c1c")
        elif number == marked_line:
            gutter = Text(f"▸{number:>{width}} ", style="bold #5fafff")
            line = line.copy()
            line.stylize("on #1c2a3a")
        else:
            gutter = Text(f" {number:>{width}} ", style="#6c6c6c")
        out.append_text(gutter)
        out.append("│ ", style="#444444")
        out.append_text(line)
        out.append("\n")
        row += 1
        for error in errors_here or ():
            pad = " " * (width + 4 + max(0, error.column - 1))
            out.append(f"{pad}╰─ ", style="#ff5f5f")
            out.append(f"{error.line}:{error.column} {error.message}", style="bold #ff5f5f")
            out.append("\n")
            row += 1
    # errors past the end of the file (e.g. "file is empty") still show
    for number, errors_here in sorted(by_line.items()):
        if number > len(lines):
            for error in errors_here:
                out.append(f"✘ {error.line}:{error.column} {error.message}\n", style="bold #ff5f5f")
                row += 1
    return out, rows


class SourcePane(VerticalScroll, can_focus=True):
    """Scrollable, highlighted flow source."""

    ALLOW_MAXIMIZE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "next_error", "Next error"),
        Binding("N", "previous_error", "Prev error", show=False),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    DEFAULT_CSS = """
    SourcePane { height: 1fr; }
    SourcePane > Static { width: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._key: tuple[str, tuple[FlowError, ...], int | None] | None = None
        self._rows: dict[int, int] = {}
        self._errors: list[FlowError] = []
        self._error_index = -1
        self.path = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="source-text")

    @property
    def errors(self) -> list[FlowError]:
        return self._errors

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``n``/``N`` only mean something with errors: dimmed in the footer otherwise."""
        if action in ("next_error", "previous_error"):
            return True if self._errors else None
        return True

    def show(self, text: str, errors: list[FlowError], path: str = "",
             marked_line: int | None = None, *, scroll_to_error: bool = False) -> None:
        """Render ``text``; re-renders only when text, errors or the marked line changed."""
        key = (text, tuple(errors), marked_line)
        self.path = path
        if key == self._key:
            return
        # Only the marked line moved (the cursor in Tasks): same rows, same size, so no
        # layout of the whole screen (that would cost a frame per tree move during a flood).
        same_rows = self._key is not None and self._key[:2] == key[:2]
        self._key = key
        had_errors = bool(self._errors)
        self._errors = list(errors)
        self._error_index = -1
        if had_errors != bool(errors):
            self.refresh_bindings()
        rendered, self._rows = render_source(text, errors, marked_line)
        self.query_one("#source-text", Static).update(rendered, layout=not same_rows)
        if scroll_to_error and errors:
            self.call_after_refresh(self.scroll_to_line, errors[0].line)
        elif marked_line is not None:
            self.call_after_refresh(self.scroll_to_line, marked_line)

    def text_lines(self) -> list[str]:
        """The rendered rows as plain text (for tests)."""
        static = self.query_one("#source-text", Static)
        content = static.content
        return content.plain.split("\n") if isinstance(content, Text) else []

    def scroll_to_line(self, line: int) -> None:
        row = self._rows.get(line)
        if row is None:
            return
        height = self.scrollable_content_region.height
        top = self.scroll_offset.y
        if not top <= row < top + height - 1:
            self.scroll_to(y=max(0, row - height // 3), animate=False)

    def action_next_error(self) -> None:
        self._jump(+1)

    def action_previous_error(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        if not self._errors:
            self.notify("No validation errors in this flow", timeout=2)
            return
        self._error_index = (self._error_index + step) % len(self._errors)
        error = self._errors[self._error_index]
        self.scroll_to_line(error.line)
        self.notify(f"{error.line}:{error.column} {error.message}", timeout=3)
