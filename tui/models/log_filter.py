"""The rows a log filter shows: one task run (or several) and/or a minimum level.

A filter only needs the per-line metadata a store keeps in memory (level ranks and task-run
codes), never the spool; it reads them through the small :class:`LineMetadata` protocol, so
this module does not import the store (which builds views with :meth:`LogStore.filtered`).
"""

from __future__ import annotations

import bisect
import sys
from array import array
from collections.abc import Iterator
from itertools import compress
from typing import Protocol

from tui.models.log_levels import level_rank

__all__ = ["LineMetadata", "LogFilterView", "TaskRunFilter", "describe_filter"]

TaskRunFilter = str | frozenset[str] | None
"""One task run id, a set of them (a flowable task and its descendants), or None for all."""


class LineMetadata(Protocol):
    """What a filter reads from a store: per-line arrays that only ever grow (append-only)."""

    def __len__(self) -> int: ...

    @property
    def line_levels(self) -> array[int]:
        """The level rank of each line."""
        ...

    @property
    def line_pairs(self) -> array[int]:
        """Each line's code in :attr:`pairs`."""
        ...

    @property
    def pairs(self) -> list[tuple[str | None, str | None]]:
        """The distinct (task_run_id, task_id) pairs, by code."""
        ...


class LogFilterView:
    """The rows of a filter over a store: view row -> store index.

    Built incrementally: :meth:`refresh` only examines lines appended since the last refresh,
    using the store's in-memory level/task-run arrays (no spool reads). The row count is a
    snapshot taken at the last refresh, so a UI can append on another thread without the view's
    length changing under a render. An unfiltered view stores no rows at all (row == index).
    """

    def __init__(
        self,
        store: LineMetadata,
        *,
        task_run_id: TaskRunFilter = None,
        min_level: str | None = None,
    ) -> None:
        self.store = store
        # The store only appends to these, never replaces them: hold them once.
        self._levels = store.line_levels
        self._pairs_of = store.line_pairs
        self._pairs = store.pairs
        self.task_run_id = task_run_id
        self._wanted: frozenset[str] = (
            frozenset()
            if task_run_id is None
            else frozenset((task_run_id,))
            if isinstance(task_run_id, str)
            else frozenset(task_run_id)
        )
        self.min_level = None if min_level in (None, "ALL") else min_level
        self._min_rank = 0 if self.min_level is None else level_rank(self.min_level)
        self._identity = task_run_id is None and self._min_rank == 0
        self._rows = array("I")
        self._scanned = 0
        self._pair_codes: frozenset[int] = frozenset()
        self._pairs_seen = 0
        self.refresh()

    @property
    def is_filtered(self) -> bool:
        """True when the view hides some lines (rows are not simply store indexes)."""
        return not self._identity

    def __len__(self) -> int:
        return self._scanned if self._identity else len(self._rows)

    def __getitem__(self, row: int) -> int:
        """The store index shown at ``row`` (negative rows count from the end)."""
        if self._identity:
            if row < 0:
                row += self._scanned
            if not 0 <= row < self._scanned:
                raise IndexError(row)
            return row
        return self._rows[row]

    def __iter__(self) -> Iterator[int]:
        if self._identity:
            return iter(range(self._scanned))
        return iter(self._rows)

    def accepts(self, index: int) -> bool:
        """Whether store line ``index`` passes this filter (reads memory only)."""
        if self._identity:
            return True
        if self._levels[index] < self._min_rank:
            return False
        if self.task_run_id is None:
            return True
        self._update_pair_codes()
        return self._pairs_of[index] in self._pair_codes

    def row_of(self, index: int) -> int | None:
        """The view row showing store line ``index``, or None if the filter hides it."""
        if self._identity:
            return index if 0 <= index < self._scanned else None
        row = bisect.bisect_left(self._rows, index)
        if row < len(self._rows) and self._rows[row] == index:
            return row
        return None

    def nearest_row(self, index: int) -> int:
        """The first row showing ``index`` or a later line (clamped to the last row); for keeping
        the cursor near the same place when the filter changes."""
        if self._identity:
            return max(0, min(index, self._scanned - 1))
        row = bisect.bisect_left(self._rows, index)
        return max(0, min(row, len(self._rows) - 1))

    def _update_pair_codes(self) -> None:
        pairs = self._pairs
        if self._pairs_seen != len(pairs):
            wanted = self._wanted
            self._pair_codes = frozenset(
                code for code, (run_id, _task_id) in enumerate(pairs) if run_id in wanted
            )
            self._pairs_seen = len(pairs)

    def refresh(self) -> int:
        """Take in lines appended since the last refresh; returns how many rows were added."""
        end = len(self.store)
        start = self._scanned
        if end <= start:
            return 0
        if self._identity:
            self._scanned = end
            return end - start
        before = len(self._rows)
        codes: frozenset[int] | None = None
        if self.task_run_id is not None:
            self._update_pair_codes()
            codes = self._pair_codes
        if codes is None or codes:
            mask = _line_mask(self._pairs_of, self._levels, start, end, codes, self._min_rank,
                              len(self._pairs))
            if mask is None:
                self._rows.extend(i for i in range(start, end) if self._accepts(i, codes))
            else:
                self._rows.extend(compress(range(start, end), mask))  # C speed
        self._scanned = end
        return len(self._rows) - before

    def _accepts(self, index: int, codes: frozenset[int] | None) -> bool:
        return self._levels[index] >= self._min_rank and (
            codes is None or self._pairs_of[index] in codes)

    @property
    def scanned(self) -> int:
        """How many store lines this view has examined (its snapshot of the store's length)."""
        return self._scanned


def _line_mask(pairs_of: array[int], levels: array[int], start: int, end: int,
               codes: frozenset[int] | None, min_rank: int, pair_count: int) -> bytes | None:
    """One byte per line of ``start:end``, 1 where the line passes, built with C-speed bulk
    operations (a refilter of a million lines takes milliseconds, not a Python loop's
    quarter second); None over 256 task runs, when a code does not fit a byte (the caller
    then loops)."""
    count = end - start
    mask: bytes | None = None
    if codes is not None:
        if pair_count > 256:
            return None
        size = pairs_of.itemsize  # every code < 256: a line's code is its low byte
        low = 0 if sys.byteorder == "little" else size - 1
        narrow = pairs_of[start:end].tobytes()[low::size]
        mask = narrow.translate(bytes(1 if code in codes else 0 for code in range(256)))
    if min_rank > 0:
        ranks = levels[start:end].tobytes().translate(
            bytes(1 if rank >= min_rank else 0 for rank in range(256)))
        if mask is None:
            return ranks
        both = int.from_bytes(mask, "little") & int.from_bytes(ranks, "little")
        return both.to_bytes(count, "little")
    return mask if mask is not None else b"\x01" * count


def describe_filter(min_level: str | None, task_runs: TaskRunFilter) -> str:
    """A filter in a few words for a status line: "all levels", "≥WARN · run-1", "≥INFO · 3
    runs"."""
    level = f"≥{min_level}" if min_level else "all levels"
    if not task_runs:
        return level
    if isinstance(task_runs, str):
        return f"{level} · {task_runs}"
    return f"{level} · {len(task_runs)} runs"
