"""What a log view shows and where its cursor is: everything about it but keys and painting.

:class:`~tui.widgets.log_view.LogView` is a Textual widget; this is the state it navigates, kept
free of Textual so the rules (what a filter keeps, where the cursor lands after a refilter, what
a search finds, what a selection copies) live in one place and read like the model they are.
Follow mode is a reactive of the widget, passed in where a rule depends on it; moving the cursor
by keys is the widget's base class (:mod:`tui.widgets.cursor_scroll_view`), which sets
:attr:`LogViewState.cursor` through the ``RowCursor`` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.models.log_cursor import selected_rows
from tui.models.log_entry import LogEntry
from tui.models.log_entry_cache import EntryCache
from tui.models.log_filter import LogFilterView, TaskRunFilter, describe_filter
from tui.models.log_levels import LEVELS, filter_level
from tui.models.log_rows import RowPart, RowWidths, row_parts
from tui.models.log_search import LogSearch
from tui.models.log_store import LogStore

__all__ = ["MAX_SELECTION_ROWS", "LogViewState"]

MAX_SELECTION_ROWS = 20_000
"""Mouse-selection copies at most this many rows: select-all on 1M lines must not freeze."""

_KEPT_VIEWS = 4
"""Filtered views kept per store (4 bytes per shown line each)."""

_MEASURED_TAIL = 1000
"""A store shown when it already has lines: its last lines size the horizontal scroll."""


class LogViewState:
    """One store seen through one filter: its rows, the cursor row, the search, the row widths
    and the entries read lately. Mutated on the UI thread only."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.task_run_filter: TaskRunFilter = None
        self.min_level: str | None = None
        """The level filter, one of ``LEVELS``; None means ALL."""
        self.view: LogFilterView = store.filtered()
        self._views: dict[tuple[TaskRunFilter, str | None], LogFilterView] = {(None, None): self.view}
        """Views built on this store, least recently shown first (see :meth:`refilter`)."""
        self.cursor = max(0, len(self.view) - 1)
        """The highlighted row in :attr:`view` (0 when empty)."""
        self.search = LogSearch()
        self.widths = _measured_widths(store)
        self.entries = EntryCache(store)

    def __len__(self) -> int:
        """Rows in the current view (the widget's scroll range)."""
        return len(self.view)

    @property
    def cursor_entry(self) -> LogEntry | None:
        """The entry under the cursor, None when the view is empty."""
        if not len(self.view):
            return None
        return self.entries.get(self.view[self.cursor])

    def entry_at(self, row: int) -> LogEntry:
        """The entry shown at view ``row`` (from the cache if read lately)."""
        return self.entries.get(self.view[row])

    def append(self, batch: Sequence[LogEntry]) -> bool:
        """Write a batch to the store (one write); True if it made the rows wider."""
        self.store.extend(batch)
        return self.widths.measure(batch)

    def show_store(self, store: LogStore) -> None:
        """Switch to another store with the same filters; then :meth:`place_cursor`."""
        self.store = store
        self.entries = EntryCache(store)
        self.widths = _measured_widths(store)
        self._views.clear()
        self.refilter()

    def set_filter(self, task_run_id: TaskRunFilter, min_level: str | None) -> int | None:
        """Replace both filters (level normalised, None/"ALL": every level); returns the store
        index of the line the cursor was on, for :meth:`place_cursor`."""
        self.task_run_filter = task_run_id
        self.min_level = filter_level(min_level)
        keep = self.view[self.cursor] if len(self.view) else None
        self.refilter()
        return keep

    def refilter(self) -> None:
        """Show the view of the store through the filters (the entry cache starts afresh).

        The last few views built on this store are kept and brought up to date instead of
        rebuilt: moving between a task and its flow during a flood then costs only the lines
        appended since, not a pass over a million lines."""
        key = (self.task_run_filter, self.min_level)
        view = self._views.pop(key, None)
        if view is None:
            view = self.store.filtered(task_run_id=self.task_run_filter, min_level=self.min_level)
        else:
            view.refresh()
        self._views[key] = view
        while len(self._views) > _KEPT_VIEWS:
            del self._views[next(iter(self._views))]
        self.view = view
        self.entries.clear()

    def place_cursor(self, keep_index: int | None, *, follow: bool) -> bool:
        """After :meth:`refilter`: the cursor goes to the last row when following or when there
        is no line to keep, else to ``keep_index``'s row (or the next one shown). True in that
        last case: the caller scrolls the kept line into view."""
        total = len(self.view)
        if follow or keep_index is None or not total:
            self.cursor = max(0, total - 1)
            return False
        self.cursor = self.view.nearest_row(keep_index)
        return True

    def first_row_at_rank(self, rank: int) -> int | None:
        """The first row shown whose level ranks ``rank`` or above (a failed run's first
        ERROR), None if there is none. Scans the store's rank bytes, not the spool."""
        levels, view = self.store.line_levels, self.view
        first: int | None = None
        for wanted in range(rank, len(LEVELS)):  # array.index runs in C: fast on 1M lines
            start = 0
            while first is None or start < first:
                try:
                    index = levels.index(wanted, start)
                except ValueError:
                    break
                if first is not None and index >= first:
                    break
                if view.accepts(index) and view.row_of(index) is not None:
                    first = index
                    break
                start = index + 1
        return view.row_of(first) if first is not None else None

    def find(self, text: str, *, backwards: bool) -> int | None:
        """Make ``text`` the search term and find it from the cursor (wrapping around)."""
        self.search.term = text
        return self.search.find(self.store, self.view, self.cursor, backwards=backwards)

    def prefetch(self, first_row: int, stop_row: int) -> None:
        """Read the entries of rows [first_row, stop_row) in as few spool reads as possible."""
        rows = range(max(0, first_row), min(stop_row, len(self.view)))
        self.entries.prefetch(self.view[row] for row in rows)

    def row_parts(self, entry: LogEntry, *, show_timestamps: bool) -> list[tuple[str, RowPart]]:
        """The row's text parts with the current task column width."""
        return row_parts(
            entry, show_timestamps=show_timestamps, task_width=self.widths.task_width
        )

    def selected_text(
        self, first: int | None, last: int | None, *, show_timestamps: bool
    ) -> tuple[int, int, str] | None:
        """The rows a mouse selection from row ``first`` to ``last`` covers (None: open end),
        at most :data:`MAX_SELECTION_ROWS` of them: (first, last, their text exactly as on
        screen, one row per line). None when the view is empty."""
        total = len(self.view)
        if not total:
            return None
        first, last = selected_rows(first, last, total, MAX_SELECTION_ROWS)
        self.prefetch(first, last + 1)
        rows = (
            self.row_parts(self.entry_at(row), show_timestamps=show_timestamps)
            for row in range(first, last + 1)
        )
        text = "\n".join("".join(part for part, _kind in parts) for parts in rows)
        return first, last, text

    def describe(self, *, follow: bool) -> str:
        """A small status: the filters and whether the view follows the end."""
        state = "following" if follow else "paused"
        return f"{describe_filter(self.min_level, self.task_run_filter)} · {state}"


def _measured_widths(store: LogStore) -> RowWidths:
    widths = RowWidths(store.longest_task_id)
    if len(store):
        widths.measure(store.get_many(max(0, len(store) - _MEASURED_TAIL), len(store)))
    return widths
