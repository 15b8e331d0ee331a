"""Cursor and scroll arithmetic for a list of rows that follows its end (like ``less +F``).

Pure functions of row counts and viewport sizes, kept out of the widget so the rules can be read
(and checked) in one place: the cursor stays on a row, landing on the last row means "follow",
paging moves the viewport and the cursor by the same step, a row is revealed with as little
scrolling as possible. The widget applies the results (``scroll_to``, its ``follow`` reactive).
"""

from __future__ import annotations

__all__ = [
    "clamp_row",
    "clamp_top",
    "is_last_row",
    "page_height",
    "page_step",
    "reveal_top",
    "selected_rows",
]


def clamp_row(row: int, total: int) -> int:
    """``row`` moved onto one of ``total`` (> 0) rows."""
    return max(0, min(row, total - 1))


def is_last_row(row: int, total: int) -> bool:
    """The cursor on the last row resumes following; anywhere else stops it."""
    return row == total - 1


def page_height(content_height: int, *, covered_rows: int = 0) -> int:
    """Rows of content on screen when a docked child (a search box) covers ``covered_rows``."""
    return max(1, content_height - covered_rows)


def page_step(height: int, direction: int) -> int:
    """How far page up/down moves (``direction`` -1 or +1): a page less one row of context."""
    return direction * max(1, height - 1)


def reveal_top(row: int, *, top: int, height: int, max_top: int, center: bool) -> int | None:
    """The scroll offset that brings ``row`` into a viewport of ``height`` rows now starting at
    ``top``, or None if it is already visible. ``center`` puts an off-screen row mid-screen (a
    search hit); otherwise the viewport moves just enough."""
    if center and not top <= row < top + height:
        target = row - height // 2
    elif row < top:
        target = row
    elif row >= top + height:
        target = row - height + 1
    else:
        return None
    return clamp_top(target, max_top)


def clamp_top(top: int, max_top: int) -> int:
    """A scroll offset kept between the first row and the furthest the view can scroll."""
    return max(0, min(top, max_top))


def selected_rows(first: int | None, last: int | None, total: int, limit: int) -> tuple[int, int]:
    """The (first, last) rows, inclusive, of a selection whose ends may be open (None), kept
    within ``total`` (> 0) rows and at most ``limit`` rows long."""
    first = first if first is not None else 0
    last = last if last is not None else total - 1
    first = max(0, min(first, total - 1))
    last = max(first, min(last, total - 1, first + limit - 1))
    return first, last
