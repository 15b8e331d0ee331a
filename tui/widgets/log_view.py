"""A log viewer that stays responsive with a million lines.

``LogView`` is a Line API widget (``ScrollView`` + ``render_line``, like Textualize/toolong):
the text lives in a :class:`~tui.models.log_store.LogStore` spool file and only the rows on
screen are read (one ``pread`` per contiguous run), turned into ``Strip`` objects and kept in a
small LRU cache. Appending a batch costs a spool write plus O(batch) bookkeeping, and at most one
repaint, whatever the log size, where RichLog re-renders and keeps every line in memory.

Design choices:

* One row per log entry. Newlines inside a message are shown as ``↵`` (the row count stays
  equal to the entry count, so the scrollbar and filters are O(1) per row); ``c`` copies the
  message with its real newlines.
* Long lines scroll horizontally (left/right, shift+wheel). A message longer than
  ``MAX_LINE_CELLS`` is cut there with an ellipsis so one pathological line cannot make every
  repaint slow; copy still gives the full text.
* Levels are shown as a letter (``T D I W E``) *and* a colour, so they read without colour too.
* Control characters and lone surrogates (binary output) are made visible (``␛``-style control
  pictures, ``�``) and ANSI colour sequences are dropped, so a log line can never corrupt the
  terminal.
* The cursor row is highlighted only while the widget (or its search box) has focus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Input

from tui.models.log_store import (
    LEVELS,
    LogEntry,
    LogFilterView,
    LogStore,
    TaskRunFilter,
    level_rank,
)

__all__ = ["LEVEL_FILTER_CYCLE", "MAX_LINE_CELLS", "LogView", "display_text", "level_letter"]

MAX_LINE_CELLS = 4096
"""Messages are cut (with ``…``) at this many characters when displayed."""

LEVEL_FILTER_CYCLE: tuple[str | None, ...] = (None, "DEBUG", "INFO", "WARN", "ERROR")
"""What key ``l`` steps through; None shows every level (ALL)."""

_TASK_WIDTH_MAX = 24
_TIME_WIDTH = len("12:34:56.789 ")
_STRIP_CACHE_SIZE = 512
_ENTRY_CACHE_SIZE = 2048
_PREFETCH_GAP = 16
"""Rows whose store indexes are this close are read with one ``get_many`` (filtered views)."""
_MAX_SELECTION_ROWS = 20_000
"""Mouse-selection copies at most this many rows: select-all on 1M lines must not freeze."""

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


def _format_time(time: datetime) -> str:
    if time.tzinfo is not None:
        try:
            time = time.astimezone()
        except (OverflowError, ValueError):  # datetime.min/max cannot move to local time
            pass
    return f"{time:%H:%M:%S}.{time.microsecond // 1000:03d}"


class _RowStyles(NamedTuple):
    """Rich styles resolved from the component classes, recomputed when CSS/theme change."""

    base: Style
    cursor: Style
    time: Style
    task: Style
    match: Style
    levels: tuple[Style, ...]  # indexed by level rank


class LogView(ScrollView, can_focus=True):
    """A scrollable, filterable, searchable view of a :class:`LogStore`.

    Feed it with :meth:`append_entries` (one call per batch from the UI thread). It follows the
    end of the log while ``follow`` is True; moving the cursor or scrolling up stops following,
    coming back to the bottom (or ``f``/``end``) resumes it.
    """

    ALLOW_MAXIMIZE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow"),
        Binding("t", "toggle_timestamps", "Times"),
        Binding("l", "cycle_level", "Level"),
        Binding("slash", "start_search", "Search"),
        Binding("n", "search_next", "Next match"),
        Binding("N", "search_previous", "Prev match"),
        Binding("c,y", "copy_line", "Copy line"),
        Binding("escape", "close_search", "Close search", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_home", "First line", show=False),
        Binding("end", "cursor_end", "Last line (follow)", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
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

    DEFAULT_CSS = """
    LogView { background: $surface; }
    LogView > .log-view--cursor { background: $block-cursor-blurred-background; }
    LogView:focus-within > .log-view--cursor { background: $block-cursor-background 50%; }
    LogView > .log-view--match { background: $warning 45%; color: $foreground; text-style: bold; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--task { color: $text-secondary; }
    LogView > .log-view--trace { color: $text-muted; text-style: dim; }
    LogView > .log-view--debug { color: $text-muted; text-style: dim; }
    LogView > .log-view--info { color: $foreground; }
    LogView > .log-view--warn { color: $text-warning; }
    LogView > .log-view--error { color: $text-error; text-style: bold; }
    LogView > Input { dock: bottom; display: none; }
    LogView.-searching > Input { display: block; }
    """

    follow: var[bool] = var(True, init=False)
    """Keep the last line in view as lines arrive."""

    show_timestamps: reactive[bool] = reactive(True, init=False)
    """Show each line's time (local time, milliseconds)."""

    class FollowChanged(Message):
        """Posted when follow mode turns on or off (e.g. to show a "paused" badge)."""

        def __init__(self, log_view: LogView, follow: bool) -> None:
            super().__init__()
            self.log_view = log_view
            self.follow = follow

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(
        self,
        store: LogStore | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """``store``: the lines to show; by default the view owns a temp store, closed on
        unmount. A store given here is the caller's to close."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._owns_store = store is None
        self._store = store if store is not None else LogStore()
        self._task_run_filter: TaskRunFilter = None
        self._min_level: str | None = None
        self._view: LogFilterView = self._store.filtered()
        self._cursor = max(0, len(self._view) - 1)
        self._search_term = ""
        self._searching = False
        self._adjusting_scroll = False
        self._task_width = min(self._store.longest_task_id, _TASK_WIDTH_MAX)
        self._message_cells = 0
        self._width_pending = False
        self._row_styles: _RowStyles | None = None
        self._strips: LRUCache[tuple[int, bool], Strip] = LRUCache(_STRIP_CACHE_SIZE)
        self._entries: LRUCache[int, LogEntry] = LRUCache(_ENTRY_CACHE_SIZE)
        if len(self._store):
            self._measure(self._store.get_many(max(0, len(self._store) - 1000), len(self._store)))

    # -- public API --------------------------------------------------------------------------

    @property
    def store(self) -> LogStore:
        return self._store

    @property
    def view(self) -> LogFilterView:
        """The current filter view (row -> store index)."""
        return self._view

    @property
    def cursor_row(self) -> int:
        """The highlighted row in the current view (0 when empty)."""
        return self._cursor

    @property
    def cursor_entry(self) -> LogEntry | None:
        """The entry under the cursor, read from the store."""
        if not len(self._view):
            return None
        return self._entry(self._view[self._cursor])

    @property
    def task_run_filter(self) -> TaskRunFilter:
        return self._task_run_filter

    @property
    def min_level(self) -> str | None:
        """The level filter; None means ALL."""
        return self._min_level

    @property
    def search_term(self) -> str:
        return self._search_term

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search (enter: find, esc: close)", compact=True)

    @property
    def is_container(self) -> bool:
        """A container only while the search box is shown, so the compositor docks it; the rest
        of the time a plain Line API widget (which also keeps mouse text selection working)."""
        return self._searching

    def append_entries(self, entries: Iterable[LogEntry]) -> None:
        """Append a batch (UI thread). One spool write, one view update, at most one repaint."""
        batch = entries if isinstance(entries, Sequence) else list(entries)
        if not batch:
            return
        self._store.extend(batch)
        self._measure(batch)
        self.sync()

    def sync(self) -> None:
        """Take in lines appended to the store by someone else (e.g. another thread)."""
        task_width = min(self._store.longest_task_id, _TASK_WIDTH_MAX)
        if task_width != self._task_width:
            self._task_width = task_width
            self._invalidate_strips()
            self._width_pending = True
        added = self._view.refresh()
        if not added:
            if self._width_pending:
                self._apply_virtual_size()
            return
        self._apply_virtual_size()
        if self.follow:
            self._cursor = len(self._view) - 1
            self._scroll_to_end()
        self.refresh()

    def set_store(self, store: LogStore) -> None:
        """Show another store (e.g. another execution); the current filters are kept."""
        if store is self._store:
            return
        if self._owns_store:
            self._store.close()
        self._owns_store = False
        self._store = store
        self._task_width = min(store.longest_task_id, _TASK_WIDTH_MAX)
        self._message_cells = 0
        if len(store):
            self._measure(store.get_many(max(0, len(store) - 1000), len(store)))
        self._rebuild_view(keep_index=None)

    def set_filter(self, task_run_id: TaskRunFilter = None, min_level: str | None = None) -> None:
        """Show only one task run's lines and/or lines at ``min_level`` or above (None/"ALL":
        every level). Both filters are replaced; the cursor stays on the same line if it is
        still shown, else on the next one."""
        level = None if min_level in (None, "ALL") else str(min_level).upper()
        if level is not None and level not in LEVELS:
            level = LEVELS[level_rank(level)]
        self._task_run_filter = task_run_id
        self._min_level = level
        keep = self._view[self._cursor] if len(self._view) else None
        self._rebuild_view(keep_index=keep)

    def search(self, text: str, *, backwards: bool = False) -> int | None:
        """Find ``text`` (case-insensitive) from the row after (before) the cursor, wrapping
        around; moves the cursor there and returns the row, or notifies "no match"."""
        self._search_term = text
        self._invalidate_strips()
        if not text:
            return None
        total = len(self._view)
        start = self._cursor - 1 if backwards else self._cursor + 1
        found = self._store.search(text, start, backwards, view=self._view)
        if found is None and total:
            wrap_start = total - 1 if backwards else 0
            found = self._store.search(text, wrap_start, backwards, view=self._view)
        if found is None:
            self.notify(f"No match for {text!r}", severity="warning", timeout=3)
            self.refresh()
            return None
        self._move_cursor(found, center=True)
        self.refresh()
        return found

    # -- messages & watchers -----------------------------------------------------------------

    def on_mount(self) -> None:
        self._apply_virtual_size()
        if self.follow:
            self.call_after_refresh(self._stay_at_end)
        self._update_subtitle()

    def on_unmount(self) -> None:
        if self._owns_store:
            self._store.close()

    def on_resize(self, event: events.Resize) -> None:
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def watch_show_horizontal_scrollbar(self) -> None:
        # The scrollbar takes a row from the viewport without a Resize: stay on the last line.
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._cursor = max(0, len(self._view) - 1)
            self._scroll_to_end()
            self.refresh()
        self._update_subtitle()
        self.post_message(self.FollowChanged(self, follow))

    def watch_show_timestamps(self) -> None:
        self._invalidate_strips()
        self._apply_virtual_size()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling by the user (wheel, scrollbar) decides follow mode: away from the bottom
        stops following, back at the bottom resumes it. Our own scrolls are ignored."""
        super().watch_scroll_y(old_value, new_value)
        if self._adjusting_scroll or not self.is_mounted:
            return
        at_end = round(new_value) >= self.max_scroll_y
        if at_end != self.follow:
            self.follow = at_end

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_styles = None
        self._invalidate_strips()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # The cursor is drawn only with focus within; Widget repaints on our own focus/blur.
        self.refresh()

    @on(Input.Blurred)
    def _search_blurred(self, event: Input.Blurred) -> None:
        """Clicking elsewhere abandons the search, like escape (without stealing focus)."""
        event.stop()
        if self._searching:
            self._close_search_box(refocus=False)

    @on(Input.Submitted)
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_close_search()
        self.search(event.value)

    def selection_updated(self, selection: Selection | None) -> None:
        self._invalidate_strips()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Plain text of the selected rows (what is on screen), capped at
        ``_MAX_SELECTION_ROWS`` rows so select-all on a huge log stays quick."""
        total = len(self._view)
        if not total:
            return None
        first = selection.start.y if selection.start is not None else 0
        last = selection.end.y if selection.end is not None else total - 1
        first = max(0, min(first, total - 1))
        last = max(first, min(last, total - 1, first + _MAX_SELECTION_ROWS - 1))
        self._prefetch(first, last + 1)
        text = "\n".join(
            self._plain_row(self._entry(self._view[row])) for row in range(first, last + 1)
        )
        start = selection.start
        end = selection.end
        shifted = Selection(
            None if start is None else start._replace(y=start.y - first),
            None if end is None else end._replace(y=min(end.y, last) - first),
        )
        return shifted.extract(text), "\n"

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search":
            return self._searching  # let escape reach the app when there is nothing to close
        return True

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    def action_toggle_timestamps(self) -> None:
        self.show_timestamps = not self.show_timestamps

    def action_cycle_level(self) -> None:
        position = (
            LEVEL_FILTER_CYCLE.index(self._min_level)
            if self._min_level in LEVEL_FILTER_CYCLE
            else 0
        )
        level = LEVEL_FILTER_CYCLE[(position + 1) % len(LEVEL_FILTER_CYCLE)]
        self.set_filter(self._task_run_filter, level)
        self.notify(f"Log level: {level or 'ALL'}", timeout=1.5)

    def action_start_search(self) -> None:
        search_input = self.query_one(Input)
        self._searching = True
        self.add_class("-searching")
        search_input.value = self._search_term
        search_input.select_all()
        search_input.focus()
        self._apply_virtual_size()
        self.refresh(layout=True)
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def action_close_search(self) -> None:
        if self._searching:
            self._close_search_box(refocus=True)

    def _close_search_box(self, *, refocus: bool) -> None:
        self._searching = False
        self.remove_class("-searching")
        if refocus:
            self.focus()
        self._apply_virtual_size()
        self.refresh(layout=True)
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def action_search_next(self) -> None:
        self._search_again(backwards=False)

    def action_search_previous(self) -> None:
        self._search_again(backwards=True)

    def action_copy_line(self) -> None:
        entry = self.cursor_entry
        if entry is None:
            self.notify("No line to copy", severity="warning", timeout=2)
            return
        task = f" {entry.task_id}" if entry.task_id else ""
        stamp = f"{entry.time.isoformat()} " if self.show_timestamps else ""
        self.app.copy_to_clipboard(f"{stamp}{entry.level}{task} {entry.message}")
        self.notify("Copied line to the clipboard", timeout=1.5)

    def action_cursor_up(self) -> None:
        self._move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        self._page(-1)

    def action_cursor_page_down(self) -> None:
        self._page(+1)

    def action_cursor_home(self) -> None:
        self._move_cursor(0)

    def action_cursor_end(self) -> None:
        self.follow = True

    # -- rendering ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """Read every visible row that is not cached in as few ``pread`` calls as possible,
        before the per-line rendering asks for them one by one."""
        scroll_y = self.scroll_offset.y
        self._prefetch(scroll_y + crop.y, scroll_y + crop.bottom)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        styles = self._styles()
        if row >= len(self._view):
            return Strip.blank(width, styles.base)
        is_cursor = row == self._cursor and self.has_focus_within
        strip = self._row_strip(row, is_cursor)
        fill = styles.base + styles.cursor if is_cursor else styles.base
        return strip.crop_extend(scroll_x, scroll_x + width, fill).apply_offsets(scroll_x, row)

    def _row_strip(self, row: int, is_cursor: bool) -> Strip:
        index = self._view[row]
        selection = self.text_selection
        key = (index, is_cursor)
        if selection is None:
            cached = self._strips.get(key)
            if cached is not None:
                return cached
        styles = self._styles()
        entry = self._entry(index)
        parts = self._row_parts(entry, styles)
        if self._search_term:
            parts = self._highlight(parts, styles.match)
        if selection is not None and (span := selection.get_span(row)) is not None:
            parts = self._stylize_span(
                parts, span, self.screen.get_component_rich_style("screen--selection")
            )
        base = styles.base + styles.cursor if is_cursor else styles.base
        segments = [Segment(text, base + style) for text, style in parts]
        strip = Strip(segments)
        if strip.cell_length > self.virtual_size.width:
            self._message_cells = max(self._message_cells, strip.cell_length - self._prefix_width())
            self._schedule_width_update()
        if selection is None:
            self._strips.set(key, strip)
        return strip

    def _row_parts(self, entry: LogEntry, styles: _RowStyles) -> list[tuple[str, Style]]:
        """The row as (text, style) parts; their joined text is exactly the on-screen text (used
        for selection offsets)."""
        parts: list[tuple[str, Style]] = []
        if self.show_timestamps:
            parts.append((_format_time(entry.time) + " ", styles.time))
        rank = level_rank(entry.level)
        level_style = styles.levels[rank]
        parts.append((level_letter(entry.level), level_style + Style(bold=True)))
        parts.append((" ", Style()))
        if self._task_width:
            task = display_text(entry.task_id or "")[: self._task_width]
            parts.append((task.ljust(self._task_width) + " ", styles.task))
        message = display_text(entry.message)
        if len(message) > MAX_LINE_CELLS:
            message = message[: MAX_LINE_CELLS - 1] + "…"
        parts.append((message, level_style))
        return parts

    def _plain_row(self, entry: LogEntry) -> str:
        return "".join(text for text, _style in self._row_parts(entry, self._styles()))

    def _highlight(self, parts: list[tuple[str, Style]], style: Style) -> list[tuple[str, Style]]:
        """Split the message part around case-insensitive matches of the search term."""
        text, message_style = parts[-1]
        term = self._search_term.lower()
        lowered = text.lower()
        if term not in lowered or len(lowered) != len(text):
            return parts
        pieces: list[tuple[str, Style]] = []
        position = 0
        while (found := lowered.find(term, position)) != -1:
            if found > position:
                pieces.append((text[position:found], message_style))
            pieces.append((text[found : found + len(term)], message_style + style))
            position = found + len(term)
        if position < len(text):
            pieces.append((text[position:], message_style))
        return parts[:-1] + pieces

    @staticmethod
    def _stylize_span(
        parts: list[tuple[str, Style]], span: tuple[int, int], style: Style
    ) -> list[tuple[str, Style]]:
        start, end = span
        result: list[tuple[str, Style]] = []
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
                result.append((text[a:b], part_style + style))
                if b < len(text):
                    result.append((text[b:], part_style))
            position = part_end
        return result

    def _styles(self) -> _RowStyles:
        """Full component styles (so ``$text-muted``/``40%`` alphas are blended against our
        background); text-only parts drop their background so the cursor row shows through."""
        styles = self._row_styles
        if styles is None:
            component = self.get_component_rich_style

            def foreground(name: str) -> Style:
                full = component(name)
                return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic)

            styles = _RowStyles(
                base=self.rich_style,
                cursor=component("log-view--cursor"),
                time=foreground("log-view--time"),
                task=foreground("log-view--task"),
                match=component("log-view--match"),
                levels=tuple(foreground(f"log-view--{name.lower()}") for name in LEVELS),
            )
            self._row_styles = styles
        return styles

    # -- internals ---------------------------------------------------------------------------

    def _entry(self, index: int) -> LogEntry:
        entry = self._entries.get(index)
        if entry is None:
            entry = self._store.get(index)
            self._entries.set(index, entry)
        return entry

    def _prefetch(self, first_row: int, stop_row: int) -> None:
        """Load the entries of rows [first_row, stop_row) that are not cached, grouping nearby
        store indexes into one ``get_many`` each."""
        view = self._view
        stop_row = min(stop_row, len(view))
        missing = [
            index
            for index in (view[row] for row in range(max(0, first_row), stop_row))
            if index not in self._entries
        ]
        if not missing:
            return
        run_start = previous = missing[0]
        for index in [*missing[1:], None]:
            if index is not None and index - previous <= _PREFETCH_GAP:
                previous = index
                continue
            for offset, entry in enumerate(self._store.get_many(run_start, previous + 1)):
                self._entries.set(run_start + offset, entry)
            if index is not None:
                run_start = previous = index

    def _measure(self, entries: Sequence[LogEntry]) -> None:
        """Track the longest message (for horizontal scrolling) from each batch: O(batch), no
        re-scan of the log. Lines appended behind our back are measured when rendered."""
        cells = self._message_cells
        for entry in entries:
            length = len(entry.message)
            if length > cells:
                measured = length if entry.message.isascii() else cell_len(entry.message)
                cells = min(max(cells, measured), MAX_LINE_CELLS)
        if cells != self._message_cells:
            self._message_cells = cells
            self._width_pending = True

    def _prefix_width(self) -> int:
        width = _TIME_WIDTH if self.show_timestamps else 0
        width += 2  # level letter + space
        if self._task_width:
            width += self._task_width + 1
        return width

    def _apply_virtual_size(self) -> None:
        self._width_pending = False
        height = len(self._view) + (1 if self._searching else 0)
        size = Size(self._prefix_width() + self._message_cells, height)
        if size == self.virtual_size:
            return
        if not self.is_mounted or self.is_container:
            self.virtual_size = size
            return
        # The view fills its container whatever its virtual size, so new lines need the
        # scrollbars updated, not a layout of the whole screen (``virtual_size`` is a layout
        # reactive): during a flood that layout cost ~20 ms per frame. A scrollbar appearing
        # still asks for a layout through its own reactive.
        self.set_reactive(LogView.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _schedule_width_update(self) -> None:
        if not self._width_pending:
            self._width_pending = True
            self.call_after_refresh(self._apply_virtual_size)

    def _invalidate_strips(self) -> None:
        self._strips.clear()
        self.refresh()

    def _page_height(self) -> int:
        height = self.scrollable_content_region.height
        return max(1, height - (1 if self._searching else 0))

    def _scroll_to_end(self) -> None:
        if not self.is_mounted:
            return
        self._adjusting_scroll = True
        try:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        finally:
            self._adjusting_scroll = False

    def _stay_at_end(self) -> None:
        """Deferred re-scroll after a layout change; follow may have been turned off since."""
        if self.follow:
            self._scroll_to_end()

    def _scroll_to_row(self, row: int, *, center: bool = False) -> None:
        if not self.is_mounted:
            return
        height = self._page_height()
        top = round(self.scroll_offset.y)
        if center and not top <= row < top + height:
            target = row - height // 2
        elif row < top:
            target = row
        elif row >= top + height:
            target = row - height + 1
        else:
            return
        self._adjusting_scroll = True
        try:
            self.scroll_to(
                y=max(0, min(target, self.max_scroll_y)), animate=False, immediate=True, force=True
            )
        finally:
            self._adjusting_scroll = False

    def _page(self, direction: int) -> None:
        """Scroll one page and move the cursor by as much (like ``less``)."""
        step = direction * max(1, self._page_height() - 1)
        top = round(self.scroll_offset.y) + step
        if self.is_mounted:
            self._adjusting_scroll = True
            try:
                self.scroll_to(
                    y=max(0, min(top, self.max_scroll_y)), animate=False, immediate=True, force=True
                )
            finally:
                self._adjusting_scroll = False
        self._move_cursor(self._cursor + step)

    def _move_cursor(self, row: int, *, center: bool = False) -> None:
        """Move the cursor; landing on the last row resumes following, anywhere else stops it."""
        total = len(self._view)
        if not total:
            return
        row = max(0, min(row, total - 1))
        if row == total - 1:
            if not self.follow:
                self.follow = True  # the watcher scrolls to the end
            self._cursor = row
            self._scroll_to_row(row)
        else:
            self._cursor = row
            self.follow = False
            self._scroll_to_row(row, center=center)
        self.refresh()

    def _rebuild_view(self, *, keep_index: int | None) -> None:
        self._view = self._store.filtered(
            task_run_id=self._task_run_filter, min_level=self._min_level
        )
        self._entries.clear()
        self._invalidate_strips()
        self._apply_virtual_size()
        total = len(self._view)
        if self.follow or keep_index is None or not total:
            self._cursor = max(0, total - 1)
            if self.follow:
                self._scroll_to_end()
        else:
            self._cursor = self._view.nearest_row(keep_index)
            self._scroll_to_row(self._cursor, center=True)
        self._update_subtitle()

    def _search_again(self, *, backwards: bool) -> None:
        if not self._search_term:
            self.notify("No search yet: press / to search", severity="warning", timeout=2)
            return
        self.search(self._search_term, backwards=backwards)

    def _update_subtitle(self) -> None:
        """A small status (visible if the app gives the widget a border)."""
        level = f"≥{self._min_level}" if self._min_level else "all levels"
        runs = self._task_run_filter
        task = "" if not runs else f" · {runs}" if isinstance(runs, str) else f" · {len(runs)} runs"
        state = "following" if self.follow else "paused"
        self.border_subtitle = f"{level}{task} · {state}"
