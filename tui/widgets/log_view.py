"""A log viewer that stays responsive with a million lines.

``LogView`` is a Line API widget (``ScrollView`` + ``render_line``, like Textualize/toolong):
the text lives in a :class:`~tui.models.log_store.LogStore` spool file and only the rows on
screen are read (one ``pread`` per contiguous run, :mod:`tui.models.log_entry_cache`), turned
into ``Strip`` objects and kept in a small LRU cache. Appending a batch costs a spool write plus
O(batch) bookkeeping, and at most one repaint, whatever the log size, where RichLog re-renders
and keeps every line in memory.

This module keeps what makes it a pane: its keys and actions, the search box, the public API
the app feeds it through, and ``render_line``. The rest lives beside it:

* :class:`~tui.models.log_view_state.LogViewState` (no Textual): the store, the filter and its
  rows, the cursor row, the search, column widths and recently read entries;
* :mod:`tui.models.log_rows`: what a row says (one row per entry, safe text, level letters;
  ``c`` copies the message with its real newlines);
* :class:`~tui.widgets.cursor_scroll_view.CursorScrollView`, the base class: cursor movement,
  paging and follow mode;
* :mod:`tui.widgets.log_row_painter`: the component-class styles and the strip cache.

Long lines scroll horizontally (left/right, shift+wheel). The cursor row is highlighted only
while the widget (or its search box) has focus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Input

from tui.models.log_cursor import page_height
from tui.models.log_entry import LogEntry
from tui.models.log_filter import LogFilterView, TaskRunFilter
from tui.models.log_levels import level_rank, next_filter_level
from tui.models.log_rows import copy_text
from tui.models.log_store import LogStore
from tui.models.log_view_state import LogViewState
from tui.widgets.cursor_scroll_view import CursorScrollView
from tui.widgets.log_lines import LogLines, Viewport
from tui.widgets.log_row_painter import ROW_COMPONENT_CLASSES, LogRowPainter

__all__ = ["LogView"]


class LogView(CursorScrollView, can_focus=True):
    """A scrollable, filterable, searchable view of a :class:`LogStore`.

    Feed it with :meth:`append_entries` (one call per batch from the UI thread). It follows the
    end of the log while ``follow`` is True; moving the cursor or scrolling up stops following,
    coming back to the bottom (or ``f``/``end``) resumes it.
    """

    ALLOW_MAXIMIZE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow"),
        Binding("t", "toggle_timestamps", "Times"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("l", "cycle_level", "Level"),
        Binding("slash", "start_search", "Search"),
        Binding("n", "search_next", "Next match"),
        Binding("N", "search_previous", "Prev match", show=False),
        Binding("c,y", "copy_line", "Copy line"),
        Binding("escape", "close_search", "Close search", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_home", "First line", show=False),
        Binding("end", "cursor_end", "Last line (follow)", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = set(ROW_COMPONENT_CLASSES)

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

    show_timestamps: reactive[bool] = reactive(True, init=False)
    """Show each line's time (local time, milliseconds)."""

    wrap: reactive[bool] = reactive(True, init=False)
    """Wrap long rows onto more lines (each still one cursor stop); off: scroll sideways."""

    class FollowChanged(CursorScrollView.FollowChanged):
        """Follow mode turned on or off (``on_log_view_follow_changed``)."""

    class RowsChanged(Message):
        """Posted when the rows shown were rebuilt (a level or task filter, another store):
        what counts them (the pane's status) reads them again."""

    def __init__(self, store: LogStore | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None,
                 disabled: bool = False) -> None:
        """``store``: the lines to show; by default the view owns a temp store, closed on
        unmount. A store given here is the caller's to close."""
        state = LogViewState(store if store is not None else LogStore())
        super().__init__(state, name=name, id=id, classes=classes, disabled=disabled)
        self._owns_store = store is None
        self._state = state
        self._searching = False
        self._width_pending = self._state.widths.message_cells > 0
        self._painter = LogRowPainter(self)
        self._lines = LogLines(state, self._painter, on_wider_row=self._wider_row)

    # -- public API --------------------------------------------------------------------------

    @property
    def store(self) -> LogStore:
        return self._state.store

    @property
    def view(self) -> LogFilterView:
        """The current filter view (row -> store index)."""
        return self._state.view

    @property
    def cursor_row(self) -> int:
        """The highlighted row in the current view (0 when empty)."""
        return self._state.cursor

    @property
    def cursor_entry(self) -> LogEntry | None:
        """The entry under the cursor, read from the store."""
        return self._state.cursor_entry

    @property
    def task_run_filter(self) -> TaskRunFilter:
        return self._state.task_run_filter

    @property
    def min_level(self) -> str | None:
        """The level filter; None means ALL."""
        return self._state.min_level

    @property
    def search_term(self) -> str:
        return self._state.search.term

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
        if self._state.append(batch):
            self._width_pending = True
        self.sync()

    def sync(self) -> None:
        """Take in lines appended to the store by someone else (e.g. another thread)."""
        state = self._state
        if state.widths.fit_task_column(state.store.longest_task_id):
            self._invalidate_strips()
            self._width_pending = True
        added = state.view.refresh()
        if not added:
            if self._width_pending:
                self._apply_virtual_size()
            return
        self._apply_virtual_size()
        if self.follow:
            state.cursor = len(state.view) - 1
            self._scroll_to_end()
        self.refresh()

    def set_store(self, store: LogStore) -> None:
        """Show another store (e.g. another execution); the current filters are kept."""
        if store is self._state.store:
            return
        if self._owns_store:
            self._state.store.close()
        self._owns_store = False
        self._state.show_store(store)
        if self._state.widths.message_cells:
            self._width_pending = True
        self._refiltered(keep_index=None)

    def set_filter(self, task_run_id: TaskRunFilter = None, min_level: str | None = None) -> None:
        """Show only one task run's lines and/or lines at ``min_level`` or above (None/"ALL":
        every level). Both filters are replaced; the cursor stays on the same line if it is
        still shown, else on the next one."""
        self._refiltered(keep_index=self._state.set_filter(task_run_id, min_level))

    def search(self, text: str, *, backwards: bool = False) -> int | None:
        """Find ``text`` (case-insensitive) from the row after (before) the cursor, wrapping
        around; moves the cursor there and returns the row, or notifies "no match"."""
        had_term = bool(self._state.search.term)
        found = self._state.find(text, backwards=backwards)
        if had_term != bool(text):
            self.refresh_bindings()
        self._invalidate_strips()
        if not text:
            return None
        if found is None:
            self.notify(f"No match for {text!r}", severity="warning", timeout=3)
            self.refresh()
            return None
        self._move_cursor(found, center=True)
        self.refresh()
        return found

    def go_to_first_at_level(self, level: str) -> bool:
        """Cursor to the first line at ``level`` or above, mid-screen (False: there is none)."""
        row = self._state.first_row_at_rank(level_rank(level))
        if row is None:
            return False
        self._move_cursor(row, center=True)
        # The pane may have just been brought forward: scroll once it has its size.
        self.call_after_refresh(self._scroll_to_row, row, center=True)
        return True

    # -- messages & watchers -----------------------------------------------------------------

    def on_mount(self) -> None:
        self._apply_virtual_size()
        if self.follow:
            self.call_after_refresh(self._stay_at_end)
        self._update_subtitle()

    def on_unmount(self) -> None:
        if self._owns_store:
            self._state.store.close()

    def watch_follow(self, follow: bool) -> None:
        super().watch_follow(follow)  # (which posts FollowChanged)
        self._update_subtitle()

    def watch_show_timestamps(self) -> None:
        self._invalidate_strips()
        self._apply_virtual_size()

    def watch_wrap(self, wrap: bool) -> None:
        """The rows take other heights: new scroll range, the cursor row (or the end) shown."""
        self._lines.wrap = wrap
        if wrap:
            self.scroll_to(x=0, animate=False, immediate=True)
        self._invalidate_strips()
        self._apply_virtual_size()
        self.call_after_refresh(self._stay_at_end if self.follow else self._scroll_to_row,
                                *(() if self.follow else (self._state.cursor,)))

    def _viewport_resized(self) -> None:
        if self.wrap:  # the rows wrap at the new width: the scroll range changes
            self._apply_virtual_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painter.restyle()
        self.refresh()

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
        """Plain text of the selected rows (what is on screen), capped so that select-all on a
        huge log stays quick."""
        return self._lines.selected_text(selection, show_timestamps=self.show_timestamps)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search":
            return self._searching  # let escape reach the app when there is nothing to close
        if action in ("search_next", "search_previous"):
            # Dimmed in the footer until there is a search (like less, n repeats one).
            return True if self._state.search.term else None
        return True

    def action_toggle_timestamps(self) -> None:
        self.show_timestamps = not self.show_timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.notify("Long lines: wrapped" if self.wrap else "Long lines: scroll sideways",
                    timeout=1.5)

    def action_cycle_level(self) -> None:
        level = next_filter_level(self._state.min_level)
        self.set_filter(self._state.task_run_filter, level)
        self.notify(f"Log level: {level or 'ALL'}", timeout=1.5)

    def action_start_search(self) -> None:
        search_input = self.query_one(Input)
        self._searching = True
        self.add_class("-searching")
        search_input.value = self._state.search.term
        search_input.select_all()
        search_input.focus()
        self._search_box_toggled()

    def action_close_search(self) -> None:
        if self._searching:
            self._close_search_box(refocus=True)

    def _close_search_box(self, *, refocus: bool) -> None:
        self._searching = False
        self.remove_class("-searching")
        if refocus:
            self.focus()
        self._search_box_toggled()

    def _search_box_toggled(self) -> None:
        """The box docks at the bottom (one more virtual row): relayout, keep the last line."""
        self._apply_virtual_size()
        self.refresh(layout=True)
        if self.follow:
            self.call_after_refresh(self._stay_at_end)

    def action_search_next(self) -> None:
        self._search_again(backwards=False)

    def action_search_previous(self) -> None:
        self._search_again(backwards=True)

    def _search_again(self, *, backwards: bool) -> None:
        if not self._state.search.term:
            self.notify("No search yet: press / to search", severity="warning", timeout=2)
            return
        self.search(self._state.search.term, backwards=backwards)

    def action_copy_line(self) -> None:
        entry = self.cursor_entry
        if entry is None:
            self.notify("No line to copy", severity="warning", timeout=2)
            return
        self.app.copy_to_clipboard(copy_text(entry, show_timestamps=self.show_timestamps))
        self.notify("Copied line to the clipboard", timeout=1.5)

    # -- rendering ---------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        """Read every visible row that is not cached in as few ``pread`` calls as possible,
        before the per-line rendering asks for them one by one."""
        scroll_y = self.scroll_offset.y
        self._state.prefetch(scroll_y + crop.y, scroll_y + crop.bottom)
        self._lines.begin_frame(self._viewport())
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        return self._lines.line(y, self._viewport(), self.virtual_size.width)

    def _viewport(self) -> Viewport:
        scroll_x, scroll_y = self.scroll_offset
        region = self.scrollable_content_region
        return Viewport(scroll_x, scroll_y, max(1, region.width) if self.wrap else self.size.width,
                        self._page_height() if self.wrap else self.size.height,
                        self.has_focus_within, self.show_timestamps, self.text_selection)

    def _wider_row(self, cells: int) -> None:
        self._state.widths.widen(cells, show_timestamps=self.show_timestamps)
        self._schedule_width_update()

    # -- internals ---------------------------------------------------------------------------

    def _apply_virtual_size(self) -> None:
        """Unwrapped: a row per log row, as wide as the widest. Wrapped: as wide as the pane,
        and the scroll range ends at the top row that shows the last row whole."""
        self._width_pending = False
        searching = 1 if self._searching else 0
        if self.wrap:
            # No horizontal range: a scrollbar for it would change the width rows wrap at.
            frame, region = self._viewport(), self.scrollable_content_region
            self._set_virtual_size(Size(1, self._lines.end_top(frame) + region.height))
            return
        height = len(self._state.view) + searching
        self._set_virtual_size(
            Size(self._state.widths.total(show_timestamps=self.show_timestamps), height)
        )

    def _scroll_to_row(self, row: int, *, center: bool = False) -> None:
        if not self.wrap or not self.is_mounted:
            super()._scroll_to_row(row, center=center)
        elif (top := self._lines.reveal_top(row, self._viewport(), center=center)) is not None:
            self._scroll_quietly(max(0, min(top, self.max_scroll_y)))

    def _schedule_width_update(self) -> None:
        if not self._width_pending:
            self._width_pending = True
            self.call_after_refresh(self._apply_virtual_size)

    def _invalidate_strips(self) -> None:
        self._painter.forget()
        self.refresh()

    def _page_height(self) -> int:
        """The search box, while shown, covers the bottom row."""
        return page_height(
            self.scrollable_content_region.height, covered_rows=1 if self._searching else 0
        )

    def _refiltered(self, *, keep_index: int | None) -> None:
        """The view was rebuilt: repaint, resize, put the cursor back on ``keep_index``'s line
        (scrolled into view) or, when following, on the last line."""
        self._invalidate_strips()
        self._apply_virtual_size()
        if self._state.place_cursor(keep_index, follow=self.follow):
            self._scroll_to_row(self._state.cursor, center=True)
        elif self.follow:
            self._scroll_to_end()
        self._update_subtitle()
        self.post_message(self.RowsChanged())

    def _update_subtitle(self) -> None:
        """A small status (visible if the app gives the widget a border)."""
        self.border_subtitle = self._state.describe(follow=self.follow)
