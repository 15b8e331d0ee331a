"""Find a search term in a chunk of spool text at C speed, looking only at searchable fields.

Pure string work, apart from the store's locking and reads: the store hands over ~1 MB of
decoded spool lines (format in :mod:`tui.models.log_entry`) and gets back the index of the first
(or last) line whose task id or message contains the escaped, lower-cased needle.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Accept", "scan_chunk"]

Accept = Callable[[int, str], bool]
"""Asked (line index, raw spool line) for each candidate; False skips the line."""


def scan_chunk(
    chunk: str, first_index: int, needle: str, accept: Accept, *, last: bool
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
        return _scan_lines(chunk, first_index, needle, accept, last=last)
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


def _scan_lines(
    chunk: str, first_index: int, needle: str, accept: Accept, *, last: bool
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


def _searchable_start(text: str, line_start: int, line_end: int) -> int:
    """Where the task id field starts in a spool line (after the 3rd tab); the whole line is
    searchable if it is damaged."""
    position = line_start
    for _ in range(3):
        position = text.find("\t", position, line_end) + 1
        if position == 0:
            return line_start
    return position
