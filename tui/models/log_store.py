"""A compact, append-only store of log lines that keeps a million lines in a few megabytes.

Why not a list of strings (RichLog, Log)? A long flow easily logs hundreds of megabytes; holding
every line as Python objects (or, worse, as rendered segments) costs ~10x the text size and makes
the UI freeze on big writes. Here the text lives in an append-only *spool file*, one escaped line
per entry (format in :mod:`tui.models.log_entry`), and memory holds only what the UI needs to
navigate and filter quickly:

* ``array('Q')`` byte offset of each line in the spool (8 bytes/line),
* ``array('B')`` level rank of each line (1 byte/line),
* ``array('I')`` index of the line's (task_run_id, task_id) pair in a small interned list
  (4 bytes/line).

That is ~13 bytes per line, ~14 MB for 1,000,000 lines. Lines are read back with ``os.pread`` at
their offset (one read for a contiguous range), so the TUI only ever decodes what is on screen.
Filters (:mod:`tui.models.log_filter`) read only those arrays; search scans the spool in chunks
(:mod:`tui.models.spool_scan`).
"""

from __future__ import annotations

import bisect
import os
import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from tui.models.log_entry import (
    NONE_FIELD,
    SPOOL_ENCODING,
    SPOOL_ERRORS,
    LogEntry,
    escape_field,
)
from tui.models.log_filter import LogFilterView, TaskRunFilter
from tui.models.log_levels import level_rank
from tui.models.spool_scan import scan_chunk

__all__ = ["LogStore"]

_FLUSH_BYTES = 256 * 1024
"""Single appends are buffered up to this size, so a million ``append`` calls are not a million
write syscalls; every read flushes first, so readers never see a partial line."""

_SEARCH_CHUNK_BYTES = 1024 * 1024
"""Search reads the spool this many bytes at a time: bounded memory whatever the log size."""


class LogStore:
    """Lines live in an append-only spool file (a temp file, or a path given); memory holds
    only per-line byte offsets (``array('Q')``), level ranks (``array('B')``) and task-run
    indexes (``array('I')`` into a small interned list).

    ``append``/``extend`` are thread-safe (the engine thread may write while the UI reads).
    A temp spool is unlinked right after it is opened on POSIX, so it disappears even if the
    process is killed; a given ``spool_path`` is truncated and kept after :meth:`close`.
    """

    def __init__(self, spool_path: Path | None = None) -> None:
        self._lock = threading.RLock()
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._temp_path: str | None = None
        if spool_path is None:
            handle, name = tempfile.mkstemp(prefix="roost-log-", suffix=".spool")
            os.close(handle)
            self._fd = os.open(name, flags, 0o600)
            if os.name == "posix":
                os.unlink(name)  # anonymous from now on: nothing to clean up after a crash
            else:  # pragma: no cover - Windows keeps open files, remove at close
                self._temp_path = name
            self.path: Path | None = None
        else:
            self._fd = os.open(spool_path, flags, 0o644)
            self.path = Path(spool_path)
        self._offsets = array("Q")
        self._levels = array("B")
        self._pairs_of = array("I")
        self._pairs: list[tuple[str | None, str | None]] = [(None, None)]
        self._pair_codes: dict[tuple[str | None, str | None], int] = {(None, None): 0}
        self._pair_fields: list[str] = [f"{NONE_FIELD}\t{NONE_FIELD}"]
        self._levels_seen: dict[str, tuple[int, str]] = {}
        self._longest_task_id = 0
        self._size = 0  # logical size, including buffered bytes
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._closed = False
        self._finalizer = weakref.finalize(self, _close_fd, self._fd, self._temp_path)

    # -- writing -----------------------------------------------------------------------------

    def _pair_code(self, task_run_id: str | None, task_id: str | None) -> int:
        key = (task_run_id, task_id)
        code = self._pair_codes.get(key)
        if code is None:
            code = len(self._pairs)
            self._pairs.append(key)
            self._pair_fields.append(f"{escape_field(task_run_id)}\t{escape_field(task_id)}")
            self._pair_codes[key] = code
            if task_id is not None and len(task_id) > self._longest_task_id:
                self._longest_task_id = len(task_id)
        return code

    def _level_info(self, level: str) -> tuple[int, str]:
        info = self._levels_seen.get(level)
        if info is None:
            info = (level_rank(level), escape_field(level))
            if len(self._levels_seen) < 256:  # garbage levels must not grow memory per line
                self._levels_seen[level] = info
        return info

    def _add(self, entry: LogEntry) -> bytes:
        """Record one entry's metadata and return its spool bytes (caller holds the lock).

        Same format as :meth:`LogEntry.to_spool`, with the escaped level and task-run fields
        cached per distinct value: appending is the hot path when a task floods its output.
        """
        rank, level_field = self._level_info(entry.level)
        code = self._pair_code(entry.task_run_id, entry.task_id)
        time = entry.time
        stamp = time.isoformat() if isinstance(time, datetime) else escape_field(str(time))
        line = f"{stamp}\t{level_field}\t{self._pair_fields[code]}\t{escape_field(entry.message)}\n"
        data = line.encode(SPOOL_ENCODING, SPOOL_ERRORS)
        self._levels.append(rank)
        self._pairs_of.append(code)
        # Offsets last: len(store) counts a line only once all its metadata is in place, so a
        # reader on another thread never indexes a level/task-run array past its end.
        self._offsets.append(self._size)
        self._size += len(data)
        return data

    def append(self, entry: LogEntry) -> int:
        """Append one line; returns its index. Buffered: see ``_FLUSH_BYTES``."""
        with self._lock:
            self._check_open()
            data = self._add(entry)
            self._pending.append(data)
            self._pending_bytes += len(data)
            if self._pending_bytes >= _FLUSH_BYTES:
                self._flush()
            return len(self._offsets) - 1

    def extend(self, entries: Iterable[LogEntry], *, buffered: bool = False) -> None:
        """Append a batch with a single write call (plus whatever single appends were buffered);
        ``buffered``: like ``append``, written once ``_FLUSH_BYTES`` are waiting (a task's lines
        arrive a pipe read at a time, often a few lines: no write call per read)."""
        with self._lock:
            self._check_open()
            chunks = self._pending
            added = 0
            for entry in entries:
                data = self._add(entry)
                chunks.append(data)
                added += len(data)
            self._pending_bytes += added
            if not buffered or self._pending_bytes >= _FLUSH_BYTES:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending = []
        self._pending_bytes = 0
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def flush(self) -> None:
        """Write buffered lines to the spool (reads do this themselves)."""
        with self._lock:
            if not self._closed:
                self._flush()

    # -- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def task_run_ids(self) -> list[str]:
        """Task runs that logged at least one line, in order of their first line."""
        with self._lock:
            seen: dict[str, None] = {}
            for run_id, _task_id in self._pairs:
                if run_id is not None:
                    seen.setdefault(run_id, None)
            return list(seen)

    @property
    def longest_task_id(self) -> int:
        """Length of the longest task id seen: lets a view size its task column without
        reading lines (task ids are interned per task run, so this is free)."""
        return self._longest_task_id

    def level_rank_at(self, index: int) -> int:
        """The level rank of line ``index`` without reading the spool."""
        return self._levels[index]

    # What a LogFilterView reads (its LineMetadata protocol); append-only, never replaced.

    @property
    def line_levels(self) -> array[int]:
        """The level rank of each line (read-only for callers)."""
        return self._levels

    @property
    def line_pairs(self) -> array[int]:
        """Each line's code in :attr:`pairs` (read-only for callers)."""
        return self._pairs_of

    @property
    def pairs(self) -> list[tuple[str | None, str | None]]:
        """The distinct (task_run_id, task_id) pairs, by code (read-only for callers)."""
        return self._pairs

    def _byte_range(self, start: int, stop: int) -> tuple[int, int]:
        """Byte span of lines [start, stop); flushes so the bytes are on disk (lock held)."""
        self._check_open()
        if self._pending:
            self._flush()
        begin = self._offsets[start]
        end = self._offsets[stop] if stop < len(self._offsets) else self._size
        return begin, end

    def _read(self, begin: int, end: int) -> bytes:
        chunks: list[bytes] = []
        position = begin
        while position < end:
            chunk = os.pread(self._fd, end - position, position)
            if not chunk:
                raise OSError(f"log spool truncated at byte {position}")
            chunks.append(chunk)
            position += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def get(self, index: int) -> LogEntry:
        """Read line ``index`` (negative counts from the end) with one ``pread``."""
        with self._lock:
            count = len(self._offsets)
            if index < 0:
                index += count
            if not 0 <= index < count:
                raise IndexError(index)
            begin, end = self._byte_range(index, index + 1)
        raw = self._read(begin, end)
        return LogEntry.from_spool(raw[:-1].decode(SPOOL_ENCODING, SPOOL_ERRORS))

    def get_many(self, start: int, stop: int) -> list[LogEntry]:
        """Read lines [start, stop) (clamped to the store) with one ``pread``."""
        with self._lock:
            count = len(self._offsets)
            start = max(0, start)
            stop = min(stop, count)
            if start >= stop:
                return []
            begin, end = self._byte_range(start, stop)
        text = self._read(begin, end).decode(SPOOL_ENCODING, SPOOL_ERRORS)
        lines = text.split("\n")
        lines.pop()  # the empty string after the final newline
        return [LogEntry.from_spool(line) for line in lines]

    def filtered(
        self, *, task_run_id: TaskRunFilter = None, min_level: str | None = None
    ) -> LogFilterView:
        """A view of the lines of one task run (or of several: a task and its descendants)
        and/or at least ``min_level`` ("ALL"/None: all)."""
        return LogFilterView(self, task_run_id=task_run_id, min_level=min_level)

    # -- searching ---------------------------------------------------------------------------

    def search(
        self,
        text: str,
        start: int,
        backwards: bool = False,
        view: LogFilterView | None = None,
    ) -> int | None:
        """The first line at or after ``start`` (at or before, if ``backwards``) whose task id or
        message contains ``text``, case-insensitively; None if there is none.

        With a ``view``, ``start`` and the result are *view rows* and hidden lines are skipped;
        without, they are store indexes. "Case-insensitive" means ``text.lower()`` occurs in the
        lower-cased field. The spool is scanned in ~1 MB chunks with C string operations, so a
        million lines take a fraction of a second and memory stays bounded.
        """
        if not text:
            return None
        with self._lock:
            count = view.scanned if view is not None else len(self._offsets)
        total = len(view) if view is not None else count
        if total == 0:
            return None
        if backwards:
            if start < 0:
                return None
            start = min(start, total - 1)
        else:
            start = max(start, 0)
            if start >= total:
                return None
        index = view[start] if view is not None else start

        needle = escape_field(text).lower()
        wanted = text.lower()

        def accept(line_index: int, raw_line: str) -> bool:
            if view is not None and not view.accepts(line_index):
                return False
            if "\\" not in needle:
                return True
            # An escaped needle can straddle escape sequences (or hit the \N of a None task id):
            # confirm on the decoded fields.
            entry = LogEntry.from_spool(raw_line)
            return wanted in entry.message.lower() or wanted in (entry.task_id or "").lower()

        found: int | None = None
        if not backwards:
            position = index
            while position < count and found is None:
                stop, chunk = self._search_chunk(position, count, forward=True)
                found = scan_chunk(chunk, position, needle, accept, last=False)
                position = stop
        else:
            position = index + 1
            while position > 0 and found is None:
                begin, chunk = self._search_chunk(position, count, forward=False)
                found = scan_chunk(chunk, begin, needle, accept, last=True)
                position = begin
        if found is None:
            return None
        return view.row_of(found) if view is not None else found

    def _search_chunk(self, position: int, count: int, *, forward: bool) -> tuple[int, str]:
        """Lines [position, stop) (forward) or [begin, position) (backwards), about one chunk of
        bytes but at least one line; returns the other bound and the decoded text."""
        with self._lock:
            offsets = self._offsets
            if forward:
                limit = offsets[position] + _SEARCH_CHUNK_BYTES
                other = bisect.bisect_right(offsets, limit, position + 1, count)
                other = max(other, position + 1)
                begin, end = self._byte_range(position, other)
            else:
                end_offset = offsets[position] if position < len(offsets) else self._size
                limit = end_offset - _SEARCH_CHUNK_BYTES
                other = bisect.bisect_left(offsets, limit, 0, position)
                other = min(other, position - 1)
                begin, end = self._byte_range(other, position)
        return other, self._read(begin, end).decode(SPOOL_ENCODING, SPOOL_ERRORS)

    # -- lifecycle ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("LogStore is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the spool; a temp spool is removed (a given ``spool_path`` is kept)."""
        with self._lock:
            if self._closed:
                return
            try:
                self._flush()
            finally:
                self._closed = True
                self._finalizer()

    def __enter__(self) -> LogStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _close_fd(fd: int, temp_path: str | None) -> None:
    try:
        os.close(fd)
    finally:
        if temp_path is not None:
            try:
                os.unlink(temp_path)
            except OSError:
                pass
