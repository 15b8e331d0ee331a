"""The screen lines of a :class:`~tui.widgets.log_view.LogView`: its rows cut at the pane edge
(scrolled sideways) or wrapped onto as many lines as they need.

Wrapping keeps the log view's rule that a log row is the unit: the cursor, search, filters and
the scroll offset still count rows (``scroll_y`` is the row at the top), and a wrapped row is
one cursor stop drawn on several lines. Only rows on screen are ever wrapped: a frame lays out
the rows from the top one until the pane is full, and the few questions that need heights
(how far to scroll to reveal a row, which row is at the top when the last one is at the
bottom) walk from that row over at most one screenful. Nothing is measured over the whole
log, so a million lines cost what a screenful does.

Continuation lines are indented under the message column (time, level and task stay a column
of their own), unless that column takes more than half the pane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from textual.selection import Selection
from textual.strip import Strip

from tui.models.log_view_state import LogViewState
from tui.widgets.log_row_painter import LogRowPainter

__all__ = ["LogLines", "Viewport"]


@dataclass(frozen=True)
class Viewport:
    """What one frame of the view shows: where it is scrolled, its size, how rows read."""

    scroll_x: int
    top: int
    width: int
    height: int
    focused: bool
    show_timestamps: bool
    selection: Selection | None


class LogLines:
    """Row strips (painted once, cached by the painter) and the lines a frame shows."""

    def __init__(self, state: LogViewState, painter: LogRowPainter, *,
                 on_wider_row: Callable[[int], None]) -> None:
        """``on_wider_row(cells)``: unwrapped, a row wider than the scroll range was painted."""
        self._state = state
        self._painter = painter
        self._on_wider_row = on_wider_row
        self.wrap = True
        self._frame: Viewport | None = None
        self._lines: list[Strip] = []

    # -- one row -----------------------------------------------------------------------------

    def row_strip(self, row: int, *, is_cursor: bool, show_timestamps: bool,
                  selection: Selection | None = None, scroll_width: int | None = None) -> Strip:
        """The whole row painted (search matches, selection, cursor), from the cache when it
        can be. ``scroll_width``: unwrapped, rows wider than it widen the scroll range."""
        state, painter = self._state, self._painter
        index = state.view[row]
        if selection is None and (cached := painter.cached(index, is_cursor)) is not None:
            return cached
        entry = state.entries.get(index)
        strip = painter.paint(
            entry.level,
            state.row_parts(entry, show_timestamps=show_timestamps),
            is_cursor=is_cursor,
            search=state.search,
            selected=None if selection is None else selection.get_span(row),
        )
        if scroll_width is not None and not self.wrap and strip.cell_length > scroll_width:
            self._on_wider_row(strip.cell_length)
        if selection is None:
            painter.keep(index, is_cursor, strip)
        return strip

    def _indent(self, width: int, show_timestamps: bool) -> int:
        prefix = self._state.widths.prefix_width(show_timestamps=show_timestamps)
        return prefix if prefix <= width // 2 else 0

    def row_height(self, row: int, width: int, show_timestamps: bool) -> int:
        """Lines the row takes wrapped at ``width`` cells."""
        message = self._state.entry_at(row).message
        prefix = self._state.widths.prefix_width(show_timestamps=show_timestamps)
        if len(message) + prefix <= width and message.isascii() and message.isprintable():
            return 1  # the common case, without painting the row
        strip = self.row_strip(row, is_cursor=False, show_timestamps=show_timestamps)
        if strip.cell_length <= width:
            return 1
        return len(self._cuts(strip, width, self._indent(width, show_timestamps))) - 1

    @staticmethod
    def _cuts(strip: Strip, width: int, indent: int) -> list[int]:
        """Where the row's lines start and end (cells): the first ``width`` cells, then
        ``width - indent`` a line, cut after a space in the line's second half when there is
        one (words stay whole), else anywhere (a long token, wide characters)."""
        total = strip.cell_length
        text = strip.text
        by_words = len(text) == total  # one cell a character: text offsets are cells
        cuts = [0]
        start, room = 0, width
        while total - start > room:
            stop = start + room
            if by_words:
                space = text.rfind(" ", start + room // 2, stop)
                if space > start:
                    stop = space + 1
            cuts.append(stop)
            start, room = stop, max(1, width - indent)
        cuts.append(total)
        return cuts

    def _wrapped(self, strip: Strip, row: int, width: int, show_timestamps: bool,
                 style: Style) -> list[Strip]:
        """The row's lines: the first ``width`` cells, then the rest under the message."""
        if strip.cell_length <= width:
            return [strip.extend_cell_length(width, style).apply_offsets(0, row)]
        indent = self._indent(width, show_timestamps)
        cuts = self._cuts(strip, width, indent)
        lines = []
        for number, (start, stop) in enumerate(zip(cuts, cuts[1:], strict=False)):
            piece = strip.crop(start, stop).apply_offsets(start, row)
            if number and indent:
                piece = Strip.join([Strip.blank(indent, style), piece])
            lines.append(piece.extend_cell_length(width, style))
        return lines

    # -- a frame -----------------------------------------------------------------------------

    def begin_frame(self, frame: Viewport) -> None:
        """Lay out the lines ``frame`` shows (wrapped: from its top row until it is full)."""
        self._frame = frame
        self._lines = []
        if not self.wrap:
            return
        state, styles = self._state, self._painter.styles
        total = len(state.view)
        row = frame.top
        state.prefetch(row, row + frame.height)
        while len(self._lines) < frame.height and row < total:
            is_cursor = row == state.cursor and frame.focused
            strip = self.row_strip(row, is_cursor=is_cursor,
                                   show_timestamps=frame.show_timestamps,
                                   selection=frame.selection)
            fill = styles.base + styles.cursor if is_cursor else styles.base
            self._lines.extend(self._wrapped(strip, row, frame.width, frame.show_timestamps,
                                             fill))
            row += 1

    def line(self, y: int, frame: Viewport, scroll_width: int) -> Strip:
        """Screen line ``y`` of ``frame`` (``begin_frame`` laid it out when wrapping)."""
        styles = self._painter.styles
        if self.wrap:
            if frame != self._frame:
                self.begin_frame(frame)
            if y < len(self._lines):
                return self._lines[y]
            return Strip.blank(frame.width, styles.base)
        row = frame.top + y
        if row >= len(self._state.view):
            return Strip.blank(frame.width, styles.base)
        is_cursor = row == self._state.cursor and frame.focused
        strip = self.row_strip(row, is_cursor=is_cursor, show_timestamps=frame.show_timestamps,
                               selection=frame.selection, scroll_width=scroll_width)
        fill = styles.base + styles.cursor if is_cursor else styles.base
        x = frame.scroll_x
        return strip.crop_extend(x, x + frame.width, fill).apply_offsets(x, row)

    def selected_text(self, selection: Selection, *,
                      show_timestamps: bool) -> tuple[str, str] | None:
        """A mouse selection's text: rows and offsets are log rows and their characters,
        wrapped or not (each line carries its row and offset), so it copies the rows."""
        start, end = selection.start, selection.end
        picked = self._state.selected_text(
            None if start is None else start.y,
            None if end is None else end.y,
            show_timestamps=show_timestamps,
        )
        if picked is None:
            return None
        first, last, text = picked
        shifted = Selection(
            None if start is None else start._replace(y=start.y - first),
            None if end is None else end._replace(y=min(end.y, last) - first),
        )
        return shifted.extract(text), "\n"

    # -- scrolling, wrapped ------------------------------------------------------------------

    def top_showing_last(self, row: int, height: int, width: int, show_timestamps: bool) -> int:
        """The top row from which ``row`` is the last one that fits on ``height`` lines (the
        earliest top that still shows all of it)."""
        used = self.row_height(row, width, show_timestamps)
        top = row
        self._state.prefetch(max(0, row - height), row)
        while top > 0:
            above = self.row_height(top - 1, width, show_timestamps)
            if used + above > height:
                break
            used += above
            top -= 1
        return top

    def end_top(self, frame: Viewport) -> int:
        """The top row when following: the last row's last line at the bottom."""
        total = len(self._state.view)
        if not total:
            return 0
        return self.top_showing_last(total - 1, frame.height, frame.width, frame.show_timestamps)

    def reveal_top(self, row: int, frame: Viewport, *, center: bool) -> int | None:
        """The top row that brings ``row`` on screen, or None when it is fully shown."""
        top, height, width, show_timestamps = (frame.top, frame.height, frame.width,
                                               frame.show_timestamps)
        if top <= row:
            used = 0
            for shown in range(top, row + 1):
                used += self.row_height(shown, width, show_timestamps)
                if used > height:
                    break
            else:
                return None
        if center:
            return self.top_showing_last(row, max(1, height // 2 + 1), width, show_timestamps)
        if row < top:
            return row
        return self.top_showing_last(row, height, width, show_timestamps)
