"""One log line as the TUI holds it, and its one-line encoding in a log spool file.

Kept apart from :mod:`tui.models.log_store` because the format is a contract between writer
and readers: the store writes it on the hot append path, reads it back, and its search scans the
raw text (:mod:`tui.models.spool_scan` relies on the field order below).

Spool line format (UTF-8 with ``surrogatepass`` so invalid/binary characters survive)::

    time \\t level \\t task_run_id \\t task_id \\t message \\n

Every field is escaped: ``\\`` -> ``\\\\``, TAB -> ``\\t``, LF -> ``\\n``, CR -> ``\\r``;
``None`` is written as ``\\N`` (a sequence no escaped value can contain), so a line never holds
a raw tab or newline inside a field and the byte offsets stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine never imports tui; tui only needs the type
    from tui.engine_port import LogLine

__all__ = ["NONE_FIELD", "SPOOL_ENCODING", "SPOOL_ERRORS", "LogEntry", "escape_field"]

NONE_FIELD = "\\N"
"""How a None field is written: no escaped value can contain it."""

SPOOL_ENCODING = "utf-8"
SPOOL_ERRORS = "surrogatepass"
"""Lone surrogates (e.g. from surrogateescape-decoded output) round-trip through the spool."""

_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def escape_field(value: str | None) -> str:
    """One field as written in a spool line: no raw tab, newline or CR; None as ``\\N``."""
    if value is None:
        return NONE_FIELD
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
    if field == NONE_FIELD:
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
                escape_field(time),
                escape_field(self.level),
                escape_field(self.task_run_id),
                escape_field(self.task_id),
                escape_field(self.message),
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
