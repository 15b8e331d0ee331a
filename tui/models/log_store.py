"""A compact, append-only store of log lines that keeps a million lines in a few megabytes.

Why not a list of strings (RichLog, Log)? A long flow easily logs hundreds of megabytes; holding
every line as Python objects (or, worse, as rendered segments) costs ~10x the text size and makes
the UI freeze on big writes. Here the text lives in an append-only *spool file*, one escaped line
per entry, and memory holds only what the UI needs to navigate and filter quickly:

* ``array('Q')`` byte offset of each line in the spool (8 bytes/line),
* ``array('B')`` level rank of each line (1 byte/line),
* ``array('I')`` index of the line's (task_run_id, task_id) pair in a small interned list
  (4 bytes/line).

That is ~13 bytes per line, ~14 MB for 1,000,000 lines. Lines are read back with ``os.pread`` at
their offset (one read for a contiguous range), so the TUI only ever decodes what is on screen.

Spool line format (UTF-8 with ``surrogatepass`` so invalid/binary characters survive)::

    time \\t level \\t task_run_id \\t task_id \\t message \\n

Every field is escaped: ``\\`` -> ``\\\\``, TAB -> ``\\t``, LF -> ``\\n``, CR -> ``\\r``; ``None`` is
written as ``\\N`` (a sequence no escaped value can contain), so a line never holds a raw tab or
newline inside a field and the byte offsets stay exact.
"""

from __future__ import annotations

import bisect
import os
import re
import tempfile
import threading
import weakref
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine never imports tui; tui only needs the type
    from engine.core.events import LogLine

__all__ = [
    "LEVEL_RANKS", "LEVELS", "LogEntry", "LogFilterView", "LogStore", "TaskRunFilter", "level_rank",
]

LEVELS: tuple[str, ...] = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
"""Kestra's levels, lowest first; a level's rank is its position here."""

LEVEL_RANKS: dict[str, int] = {
    "TRACE": 0,
    "DEBUG": 1,
    "INFO": 2,
    "WARN": 3,
    "WARNING": 3,
    "ERROR": 4,
    "CRITICAL": 4,
    "FATAL": 4,
}
_DEFAULT_RANK = LEVEL_RANKS["INFO"]
"""Unknown levels rank as INFO: shown by default, hidden only by WARN/ERROR filters."""

_NONE_FIELD = "\\N"
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_ENCODING = "utf-8"
_ERRORS = "surrogatepass"  # lone surrogates (e.g. from surrogateescape-decoded output) round-trip

_FLUSH_BYTES = 256 * 1024
"""Single appends are buffered up to this size, so a million ``append`` calls are not a million
write syscalls; every read flushes first, so readers never see a partial line."""

_SEARCH_CHUNK_BYTES = 1024 * 1024
"""Search reads the spool this many bytes at a time: bounded memory whatever the log size."""

_Accept = Callable[[int, str], bool]

TaskRunFilter = str | frozenset[str] | None
"""One task run id, a set of them (a flowable task and its descendants), or None for all."""


def level_rank(level: str | None) -> int:
    """The rank used for level filters; unknown levels count as INFO."""
    if not level:
        return _DEFAULT_RANK
    return LEVEL_RANKS.get(level.upper(), _DEFAULT_RANK)


def _escape(value: str | None) -> str:
    if value is None:
        return _NONE_FIELD
    # isprintable() is False for TAB/LF/CR (and other controls): two C-speed scans decide.
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_ESCAPE_TABLE)


def _unescape_match(match: re.Match[str]) -> str:
    char = match.group(1)
    return _UNESCAPES.get(char, char)


def _unescape(field: str) -> str:
    if "\\" not in field:
        return field
    return _UNESCAPE_RE.sub(_unescape_match, field)


def _unescape_optional(field: str) -> str | None:
    if field == _NONE_FIELD:
        return None
    return _unescape(field)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line as the TUI shows it; ``task_run_id`` is None for execution-level lines."""

    time: datetime
    level: str
    task_run_id: str | None
    task_id: str | None
    message: str

    @classmethod
    def from_log_line(cls, line: LogLine) -> LogEntry:
        """Convert the engine's ``LogLine`` event (duck-typed: tui may not need engine loaded)."""
        return cls(line.date, line.level, line.task_run_id, line.task_id, line.message)

    def to_spool(self) -> str:
        """The escaped, tab-separated line written to the spool (without the trailing newline)."""
        time = self.time.isoformat() if isinstance(self.time, datetime) else str(self.time)
        return "\t".join(
            (
                _escape(time),
                _escape(self.level),
                _escape(self.task_run_id),
                _escape(self.task_id),
                _escape(self.message),
            )
        )

    @classmethod
    def from_spool(cls, line: str) -> LogEntry:
        """Parse a spool line; a damaged line degrades to a message rather than raising."""
        parts = line.split("\t", 4)
        if len(parts) != 5:
            return cls(datetime.min, "INFO", None, None, _unescape(line))
        time_field, level, task_run_id, task_id, message = parts
        try:
            time = datetime.fromisoformat(_unescape(time_field))
        except ValueError:
            time = datetime.min
        return cls(
            time,
            _unescape(level),
            _unescape_optional(task_run_id),
            _unescape_optional(task_id),
            _unescape(message),
        )


class LogFilterView:
    """The rows of a filter over a :class:`LogStore`: view row -> store index.

    Built incrementally: :meth:`refresh` only examines lines appended since the last refresh,
    using the store's in-memory level/task-run arrays (no spool reads). The row count is a
    snapshot taken at the last refresh, so a UI can append on another thread without the view's
    length changing under a render. An unfiltered view stores no rows at all (row == index).
    """

    def __init__(
        self,
        store: LogStore,
        *,
        task_run_id: TaskRunFilter = None,
        min_level: str | None = None,
    ) -> None:
        self.store = store
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
        store = self.store
        if store._levels[index] < self._min_rank:
            return False
        if self.task_run_id is None:
            return True
        self._update_pair_codes()
        return store._pairs_of[index] in self._pair_codes

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
        pairs = self.store._pairs
        if self._pairs_seen != len(pairs):
            wanted = self._wanted
            self._pair_codes = frozenset(
                code for code, (run_id, _task_id) in enumerate(pairs) if run_id in wanted
            )
            self._pairs_seen = len(pairs)

    def refresh(self) -> int:
        """Take in lines appended since the last refresh; returns how many rows were added."""
        store = self.store
        end = len(store)
        start = self._scanned
        if end <= start:
            return 0
        if self._identity:
            self._scanned = end
            return end - start
        before = len(self._rows)
        levels = store._levels
        min_rank = self._min_rank
        if self.task_run_id is None:
            self._rows.extend(i for i in range(start, end) if levels[i] >= min_rank)
        else:
            self._update_pair_codes()
            codes = self._pair_codes
            pairs_of = store._pairs_of
            if codes:
                self._rows.extend(
                    i for i in range(start, end) if pairs_of[i] in codes and levels[i] >= min_rank
                )
        self._scanned = end
        return len(self._rows) - before

    @property
    def scanned(self) -> int:
        """How many store lines this view has examined (its snapshot of the store's length)."""
        return self._scanned


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
        self._pair_fields: list[str] = [f"{_NONE_FIELD}\t{_NONE_FIELD}"]
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
            self._pair_fields.append(f"{_escape(task_run_id)}\t{_escape(task_id)}")
            self._pair_codes[key] = code
            if task_id is not None and len(task_id) > self._longest_task_id:
                self._longest_task_id = len(task_id)
        return code

    def _level_info(self, level: str) -> tuple[int, str]:
        info = self._levels_seen.get(level)
        if info is None:
            info = (level_rank(level), _escape(level))
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
        stamp = time.isoformat() if isinstance(time, datetime) else _escape(str(time))
        line = f"{stamp}\t{level_field}\t{self._pair_fields[code]}\t{_escape(entry.message)}\n"
        data = line.encode(_ENCODING, _ERRORS)
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

    def extend(self, entries: Iterable[LogEntry]) -> None:
        """Append a batch with a single write call (plus whatever single appends were buffered)."""
        with self._lock:
            self._check_open()
            chunks = self._pending
            added = 0
            for entry in entries:
                data = self._add(entry)
                chunks.append(data)
                added += len(data)
            self._pending_bytes += added
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
        return LogEntry.from_spool(raw[:-1].decode(_ENCODING, _ERRORS))

    def get_many(self, start: int, stop: int) -> list[LogEntry]:
        """Read lines [start, stop) (clamped to the store) with one ``pread``."""
        with self._lock:
            count = len(self._offsets)
            start = max(0, start)
            stop = min(stop, count)
            if start >= stop:
                return []
            begin, end = self._byte_range(start, stop)
        text = self._read(begin, end).decode(_ENCODING, _ERRORS)
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

        needle = _escape(text).lower()
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
                found = self._scan_chunk(chunk, position, needle, accept, last=False)
                position = stop
        else:
            position = index + 1
            while position > 0 and found is None:
                begin, chunk = self._search_chunk(position, count, forward=False)
                found = self._scan_chunk(chunk, begin, needle, accept, last=True)
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
        return other, self._read(begin, end).decode(_ENCODING, _ERRORS)

    @staticmethod
    def _scan_chunk(
        chunk: str, first_index: int, needle: str, accept: _Accept, *, last: bool
    ) -> int | None:
        """Index of the first (or last) accepted line of ``chunk`` (whose first line is
        ``first_index``) with ``needle`` in its task id or message fields.

        ``str.lower`` + ``str.find`` run in C over the whole chunk; Python only looks at lines
        that contain the needle somewhere. A hit in the time/level/task-run fields just resumes
        the search at that line's task id field.
        """
        lowered = chunk.lower()
        if len(lowered) != len(chunk):
            # A few characters lower-case to two (e.g. "\u0130"): positions would drift, so go
            # line by line for this chunk.
            return LogStore._scan_lines(chunk, first_index, needle, accept, last=last)
        result: int | None = None
        line_index = first_index
        counted_to = 0
        position = lowered.find(needle)
        while position != -1:
            line_start = lowered.rfind("\n", 0, position) + 1
            line_end = lowered.find("\n", position)
            field_start = _searchable_start(lowered, line_start, line_end)
            if position < field_start:
                position = lowered.find(needle, field_start)
                continue
            line_index += lowered.count("\n", counted_to, line_start)
            counted_to = line_start
            if accept(line_index, chunk[line_start:line_end]):
                result = line_index
                if not last:
                    return result
            position = lowered.find(needle, line_end + 1)
        return result

    @staticmethod
    def _scan_lines(
        chunk: str, first_index: int, needle: str, accept: _Accept, *, last: bool
    ) -> int | None:
        result: int | None = None
        lines = chunk.split("\n")
        lines.pop()
        for offset, line in enumerate(lines):
            searchable = line[_searchable_start(line, 0, len(line)) :]
            if needle in searchable.lower() and accept(first_index + offset, line):
                result = first_index + offset
                if not last:
                    return result
        return result

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


def _searchable_start(text: str, line_start: int, line_end: int) -> int:
    """Where the task id field starts in a spool line (after the 3rd tab); the whole line is
    searchable if it is damaged."""
    position = line_start
    for _ in range(3):
        position = text.find("\t", position, line_end) + 1
        if position == 0:
            return line_start
    return position


def _close_fd(fd: int, temp_path: str | None) -> None:
    try:
        os.close(fd)
    finally:
        if temp_path is not None:
            try:
                os.unlink(temp_path)
            except OSError:
                pass
