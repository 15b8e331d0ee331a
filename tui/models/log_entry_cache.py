"""The entries a log view has read lately, so repaints come from memory, not the spool.

Rows are painted one at a time; reading each from the spool would be one ``pread`` per row
per frame. The cache keeps the last few thousand entries and :meth:`EntryCache.prefetch` reads
the missing rows of a screen in as few ``get_many`` calls as possible before painting starts.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from tui.models.log_entry import LogEntry
from tui.models.log_store import LogStore

__all__ = ["EntryCache"]

_ENTRY_CACHE_SIZE = 2048
_PREFETCH_GAP = 16
"""Store indexes this close are read with one ``get_many`` (filtered views have gaps)."""


class EntryCache:
    """Least-recently-used entries of one store, by store index.

    Like ``textual.cache.LRUCache`` (which the widget layer uses for strips): a hit makes an
    entry the most recent, storing an index already held changes nothing, and the oldest
    entry goes when the cache is over its size.
    """

    def __init__(self, store: LogStore, size: int = _ENTRY_CACHE_SIZE) -> None:
        self.store = store
        self._size = size
        self._entries: OrderedDict[int, LogEntry] = OrderedDict()

    def __contains__(self, index: int) -> bool:
        return index in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, index: int) -> LogEntry:
        """The entry at store ``index``, from memory if it was read lately."""
        entries = self._entries
        entry = entries.get(index)
        if entry is None:
            entry = self.store.get(index)
            self._add(index, entry)
        else:
            entries.move_to_end(index)
        return entry

    def prefetch(self, indexes: Iterable[int]) -> None:
        """Read the entries at ``indexes`` (ascending) that are not cached, grouping nearby
        store indexes into one ``get_many`` each."""
        missing = [index for index in indexes if index not in self._entries]
        if not missing:
            return
        run_start = previous = missing[0]
        for index in [*missing[1:], None]:
            if index is not None and index - previous <= _PREFETCH_GAP:
                previous = index
                continue
            for offset, entry in enumerate(self.store.get_many(run_start, previous + 1)):
                self._add(run_start + offset, entry)
            if index is not None:
                run_start = previous = index

    def clear(self) -> None:
        self._entries.clear()

    def _add(self, index: int, entry: LogEntry) -> None:
        entries = self._entries
        if index in entries:
            return
        entries[index] = entry
        if len(entries) > self._size:
            entries.popitem(last=False)
