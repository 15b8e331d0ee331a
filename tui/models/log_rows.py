"""What one log row says, as plain text: its parts, their column widths, and how to split them.

The log view paints these parts with its own styles; copy, mouse selection and painting all
start from :func:`row_parts`, so what is copied is exactly what is on screen. No Textual and no
styles here: the part-splitting helpers are generic over whatever style type the painter uses.

Design choices (see also :mod:`tui.widgets.log_view`):

* One row per log entry. Newlines inside a message are shown as ``↵`` (the row count stays
  equal to the entry count, so the scrollbar and filters are O(1) per row).
* A message longer than :data:`MAX_LINE_CELLS` is cut there with an ellipsis so one
  pathological line cannot make every repaint slow; copy still gives the full text.
* Levels are shown as a letter (``T D I W E``) *and* a colour, so they read without colour too.
* Control characters and lone surrogates (binary output) are made visible (``␛``-style control
  pictures, ``�``) and ANSI colour sequences are dropped, so a log line can never corrupt the
  terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TypeVar

from rich.cells import cell_len

from tui.models.log_entry import LogEntry

__all__ = [
    "MAX_LINE_CELLS", "TASK_WIDTH_MAX", "RowPart", "RowWidths", "copy_text", "display_text",
    "format_time",
    "level_letter", "mark_span", "row_parts",
]

MAX_LINE_CELLS = 4096
"""Messages are cut (with ``…``) at this many characters when displayed."""

TASK_WIDTH_MAX = 24
"""The task column fits the longest task id, up to this many cells."""

_TIME_WIDTH = len("12:34:56.789 ")

_LEVEL_LETTERS = {
    "TRACE": "T",
    "DEBUG": "D",
    "INFO": "I",
    "WARN": "W",
    "WARNING": "W",
    "ERROR": "E",
    "CRITICAL": "E",
    "FATAL": "E",
}
_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_DISPLAY_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
_DISPLAY_TABLE.update(
    {
        ord("\n"): "↵",
        ord("\r"): "",
        0x7F: "␡",
        0x2028: "↵",
        0x2029: "↵",
        **{code: "�" for code in range(0x80, 0xA0)},
    }
)

StyleT = TypeVar("StyleT")


class RowPart(Enum):
    """What a piece of a row is, so the painter can pick its style."""

    TIME = "time"
    LEVEL = "level"
    GAP = "gap"
    TASK = "task"
    MESSAGE = "message"


def level_letter(level: str) -> str:
    """The one-letter badge for a level: the level is readable without colour."""
    letter = _LEVEL_LETTERS.get(level.upper())
    if letter is not None:
        return letter
    return level[:1].upper() if level[:1].isprintable() and level[:1].strip() else "?"


def display_text(message: str) -> str:
    """A message made safe for one terminal row: no ANSI sequences, controls made visible,
    tabs expanded, lone surrogates replaced. Printable text is returned unchanged (fast path)."""
    if message.isprintable():
        return message
    text = _ANSI_RE.sub("", message) if "\x1b" in message else message
    if "\t" in text:
        text = text.expandtabs(4)
    text = text.translate(_DISPLAY_TABLE)
    return _SURROGATE_RE.sub("�", text)


def format_time(time: datetime) -> str:
    """``HH:MM:SS.mmm`` in local time (an aware time is converted, a naive one shown as is)."""
    if time.tzinfo is not None:
        try:
            time = time.astimezone()
        except (OverflowError, ValueError):  # datetime.min/max cannot move to local time
            pass
    return f"{time:%H:%M:%S}.{time.microsecond // 1000:03d}"


def row_parts(
    entry: LogEntry, *, show_timestamps: bool, task_width: int
) -> list[tuple[str, RowPart]]:
    """The row as (text, part) pieces; their joined text is exactly the on-screen text (used
    for selection offsets)."""
    parts: list[tuple[str, RowPart]] = []
    if show_timestamps:
        parts.append((format_time(entry.time) + " ", RowPart.TIME))
    parts.append((level_letter(entry.level), RowPart.LEVEL))
    parts.append((" ", RowPart.GAP))
    if task_width:
        task = display_text(entry.task_id or "")[:task_width]
        parts.append((task.ljust(task_width) + " ", RowPart.TASK))
    message = display_text(entry.message)
    if len(message) > MAX_LINE_CELLS:
        message = message[: MAX_LINE_CELLS - 1] + "…"
    parts.append((message, RowPart.MESSAGE))
    return parts


def copy_text(entry: LogEntry, *, show_timestamps: bool) -> str:
    """The line as ``c`` copies it: the full message with its real newlines, ISO time."""
    task = f" {entry.task_id}" if entry.task_id else ""
    stamp = f"{entry.time.isoformat()} " if show_timestamps else ""
    return f"{stamp}{entry.level}{task} {entry.message}"


def mark_span(
    parts: list[tuple[str, StyleT]], span: tuple[int, int], mark: Callable[[StyleT], StyleT]
) -> list[tuple[str, StyleT]]:
    """Restyle the characters in ``span`` (start, end; end -1 is the end of the row) with
    ``mark(style)``, splitting the parts it crosses: a mouse selection."""
    start, end = span
    result: list[tuple[str, StyleT]] = []
    position = 0
    for text, part_style in parts:
        part_end = position + len(text)
        stop = part_end if end == -1 else min(end, part_end)
        first = max(start, position)
        if first >= stop:
            result.append((text, part_style))
        else:
            a, b = first - position, stop - position
            if a:
                result.append((text[:a], part_style))
            result.append((text[a:b], mark(part_style)))
            if b < len(text):
                result.append((text[b:], part_style))
        position = part_end
    return result


class RowWidths:
    """The row's horizontal extent: the task column (the longest task id, capped) and the
    longest message seen, so the view can size horizontal scrolling without re-reading the log.
    """

    def __init__(self, longest_task_id: int) -> None:
        self.task_width = min(longest_task_id, TASK_WIDTH_MAX)
        self.message_cells = 0

    def fit_task_column(self, longest_task_id: int) -> bool:
        """Follow the store's longest task id; True if the column width changed."""
        task_width = min(longest_task_id, TASK_WIDTH_MAX)
        if task_width == self.task_width:
            return False
        self.task_width = task_width
        return True

    def measure(self, entries: Iterable[LogEntry]) -> bool:
        """Track the longest message from each batch: O(batch), no re-scan of the log. Lines
        appended behind the view's back are measured when rendered (:meth:`widen`). True if the
        width changed."""
        cells = self.message_cells
        for entry in entries:
            length = len(entry.message)
            if length > cells:
                measured = length if entry.message.isascii() else cell_len(entry.message)
                cells = min(max(cells, measured), MAX_LINE_CELLS)
        if cells == self.message_cells:
            return False
        self.message_cells = cells
        return True

    def widen(self, row_cells: int, *, show_timestamps: bool) -> None:
        """Take in a rendered row ``row_cells`` wide (prefix included)."""
        self.message_cells = max(
            self.message_cells, row_cells - self.prefix_width(show_timestamps=show_timestamps)
        )

    def prefix_width(self, *, show_timestamps: bool) -> int:
        """Cells before the message: time, level letter and gap, task column."""
        width = _TIME_WIDTH if show_timestamps else 0
        width += 2  # level letter + space
        if self.task_width:
            width += self.task_width + 1
        return width

    def total(self, *, show_timestamps: bool) -> int:
        """The widest row: what horizontal scrolling needs."""
        return self.prefix_width(show_timestamps=show_timestamps) + self.message_cells
