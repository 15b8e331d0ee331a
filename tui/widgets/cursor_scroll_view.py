"""A Line API scroll view over rows with a cursor row that follows the end, like ``less +F``.

The log view's navigation, kept apart from what it shows: while ``follow`` is on the view keeps
its last row in view (and the cursor on it) as rows arrive; moving the cursor off the last row
or scrolling away by hand stops following, coming back resumes it. The view's own scrolls go
through :meth:`CursorScrollView._scroll_quietly`, so only the user's (wheel, scrollbar) decide
follow mode. The arithmetic is in :mod:`tui.models.log_cursor`; the rows and the cursor row
are a plain object given to the constructor (:class:`RowCursor`), not hooks to fill in.
"""

from __future__ import annotations

from typing import Protocol

from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView

from tui.models.log_cursor import (
    clamp_row,
    clamp_top,
    is_last_row,
    page_height,
    page_step,
    reveal_top,
)

__all__ = ["CursorScrollView", "RowCursor"]


class RowCursor(Protocol):
    """The rows a :class:`CursorScrollView` scrolls over, and which one has the cursor."""

    cursor: int

    def __len__(self) -> int: ...


class CursorScrollView(ScrollView):
    """Cursor movement, paging and follow mode over ``rows``; subclasses render the rows.

    Provides the ``cursor_*`` and ``toggle_follow`` actions (the subclass binds them, in the
    order its footer shows) and a ``follow`` reactive whose watcher a subclass may extend
    (calling ``super().watch_follow``)."""

    follow: var[bool] = var(True, init=False)
    """Keep the last line in view as lines arrive."""

    class FollowChanged(Message):
        """Posted when follow mode turns on or off (e.g. to show a "paused" badge)."""

        def __init__(self, view: CursorScrollView, follow: bool) -> None:
            super().__init__()
            self.view = view
            self.follow = follow

        @property
        def control(self) -> CursorScrollView:
            return self.view

    def __init__(
        self,
        rows: RowCursor,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._rows = rows
        self._adjusting_scroll = False

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._rows.cursor = max(0, len(self._rows) - 1)
            self._scroll_to_end()
            self.refresh()
        self.post_message(self.FollowChanged(self, follow))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling by the user (wheel, scrollbar) decides follow mode: away from the bottom
        stops following, back at the bottom resumes it. Our own scrolls are ignored."""
        super().watch_scroll_y(old_value, new_value)
        if self._adjusting_scroll or not self.is_mounted:
            return
        at_end = round(new_value) >= self.max_scroll_y
        if at_end != self.follow:
            self.follow = at_end

    def on_resize(self, event: events.Resize) -> None:
        self._viewport_resized()
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def watch_show_horizontal_scrollbar(self) -> None:
        # The scrollbar takes a row from the viewport without a Resize: stay on the last line.
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def watch_show_vertical_scrollbar(self) -> None:
        # It takes columns without a Resize: rows that wrap at the pane's width change height.
        self._viewport_resized()
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def _viewport_resized(self) -> None:
        """The rows' room changed; a subclass whose row heights depend on it re-measures."""

    # -- actions -----------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self._move_cursor(self._rows.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self._rows.cursor + 1)

    def action_cursor_page_up(self) -> None:
        self._page(-1)

    def action_cursor_page_down(self) -> None:
        self._page(+1)

    def action_cursor_home(self) -> None:
        self._move_cursor(0)

    def action_cursor_end(self) -> None:
        self.follow = True

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    # -- scrolling ---------------------------------------------------------------------------

    def _set_virtual_size(self, size: Size) -> None:
        """Change the scroll range as rows arrive, without a layout of the whole screen."""
        if size == self.virtual_size:
            return
        if not self.is_mounted or self.is_container:
            self.virtual_size = size
            return
        # The view fills its container whatever its virtual size, so new lines need the
        # scrollbars updated, not a layout of the whole screen (``virtual_size`` is a layout
        # reactive): during a flood that layout cost ~20 ms per frame. A scrollbar appearing
        # still asks for a layout through its own reactive.
        self.set_reactive(CursorScrollView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _page_height(self) -> int:
        """Rows of content on screen (a subclass docking a child over the bottom says so)."""
        return page_height(self.scrollable_content_region.height)

    def _scroll_quietly(self, y: int) -> None:
        """Scroll without ``watch_scroll_y`` taking it for the user deciding follow mode."""
        self._adjusting_scroll = True
        try:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        finally:
            self._adjusting_scroll = False

    def _scroll_to_end(self) -> None:
        if self.is_mounted:
            self._scroll_quietly(self.max_scroll_y)

    def _stay_at_end(self) -> None:
        """Deferred re-scroll after a layout change; follow may have been turned off since."""
        if self.follow:
            self._scroll_to_end()

    def _scroll_to_row(self, row: int, *, center: bool = False) -> None:
        if not self.is_mounted:
            return
        top = reveal_top(
            row,
            top=round(self.scroll_offset.y),
            height=self._page_height(),
            max_top=self.max_scroll_y,
            center=center,
        )
        if top is not None:
            self._scroll_quietly(top)

    def _page(self, direction: int) -> None:
        """Scroll one page and move the cursor by as much (like ``less``)."""
        step = page_step(self._page_height(), direction)
        if self.is_mounted:
            self._scroll_quietly(clamp_top(round(self.scroll_offset.y) + step, self.max_scroll_y))
        self._move_cursor(self._rows.cursor + step)

    def _move_cursor(self, row: int, *, center: bool = False) -> None:
        """Move the cursor; landing on the last row resumes following, anywhere else stops it."""
        rows = self._rows
        total = len(rows)
        if not total:
            return
        row = clamp_row(row, total)
        if is_last_row(row, total):
            if not self.follow:
                self.follow = True  # the watcher scrolls to the end
            rows.cursor = row
            self._scroll_to_row(row)
        else:
            rows.cursor = row
            self.follow = False
            self._scroll_to_row(row, center=center)
        self.refresh()
