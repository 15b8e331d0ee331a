"""Paints a :class:`~tui.widgets.log_view.LogView` row: Rich styles on its text parts, a Strip.

Kept beside the widget, not in it, because it is the one place where row text
(:mod:`tui.models.log_rows`, plain and Textual-free) meets Textual styling: styles come from
the view's component classes (``log-view--time`` ...) so themes and app CSS restyle the log,
and painted rows are kept in an LRU so a repaint of unchanged rows costs a dict lookup.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widget import Widget

from tui.models.log_levels import LEVELS, level_rank
from tui.models.log_rows import RowPart, mark_span
from tui.models.log_search import LogSearch

__all__ = ["ROW_COMPONENT_CLASSES", "LogRowPainter", "RowStyles"]

ROW_COMPONENT_CLASSES: frozenset[str] = frozenset(
    {
        "log-view--cursor",
        "log-view--match",
        "log-view--time",
        "log-view--task",
        "log-view--trace",
        "log-view--debug",
        "log-view--info",
        "log-view--warn",
        "log-view--error",
    }
)
"""The component classes :meth:`RowStyles.of` reads: the log view declares them (and styles
them in its ``DEFAULT_CSS``)."""

_STRIP_CACHE_SIZE = 512
_BOLD = Style(bold=True)
_PLAIN = Style()


class RowStyles(NamedTuple):
    """Rich styles resolved from the component classes, recomputed when CSS/theme change."""

    base: Style
    cursor: Style
    time: Style
    task: Style
    match: Style
    levels: tuple[Style, ...]  # indexed by level rank

    @classmethod
    def of(cls, widget: Widget) -> RowStyles:
        """Full component styles (so ``$text-muted``/``40%`` alphas are blended against the
        widget's background); text-only parts drop their background so the cursor row shows
        through."""
        component = widget.get_component_rich_style

        def foreground(name: str) -> Style:
            full = component(name)
            return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic)

        return cls(
            base=widget.rich_style,
            cursor=component("log-view--cursor"),
            time=foreground("log-view--time"),
            task=foreground("log-view--task"),
            match=component("log-view--match"),
            levels=tuple(foreground(f"log-view--{name.lower()}") for name in LEVELS),
        )

    def of_parts(self, level: str, parts: list[tuple[str, RowPart]]) -> list[tuple[str, Style]]:
        """Each part of a row of ``level`` with its style: the level colours the letter (bold)
        and the message."""
        level_style = self.levels[level_rank(level)]
        styles = {
            RowPart.TIME: self.time,
            RowPart.LEVEL: level_style + _BOLD,
            RowPart.GAP: _PLAIN,
            RowPart.TASK: self.task,
            RowPart.MESSAGE: level_style,
        }
        return [(text, styles[part]) for text, part in parts]


class LogRowPainter:
    """Strips for the rows of one widget, and the LRU of those painted without a selection
    (keyed by store index and whether the row has the cursor)."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._styles: RowStyles | None = None
        self._strips: LRUCache[tuple[int, bool], Strip] = LRUCache(_STRIP_CACHE_SIZE)

    @property
    def styles(self) -> RowStyles:
        if self._styles is None:
            self._styles = RowStyles.of(self._widget)
        return self._styles

    def restyle(self) -> None:
        """CSS or theme changed: resolve the styles again, repaint every row."""
        self._styles = None
        self._strips.clear()

    def forget(self) -> None:
        """Rows will read differently (filter, search, columns): repaint every row."""
        self._strips.clear()

    def cached(self, index: int, is_cursor: bool) -> Strip | None:
        return self._strips.get((index, is_cursor))

    def keep(self, index: int, is_cursor: bool, strip: Strip) -> None:
        self._strips.set((index, is_cursor), strip)

    def paint(
        self,
        level: str,
        parts: list[tuple[str, RowPart]],
        *,
        is_cursor: bool,
        search: LogSearch,
        selected: tuple[int, int] | None,
    ) -> Strip:
        """One row: level colours, search matches marked, the ``selected`` span (mouse
        selection, character offsets in the row) in the screen's selection style."""
        styles = self.styles
        painted = styles.of_parts(level, parts)
        if search.term:
            painted = search.highlight(painted, lambda style: style + styles.match)
        if selected is not None:
            selection = self._widget.screen.get_component_rich_style("screen--selection")
            painted = mark_span(painted, selected, lambda style: style + selection)
        base = styles.base + styles.cursor if is_cursor else styles.base
        return Strip([Segment(text, base + style) for text, style in painted])
