"""One append-only journal per execution holding every snapshot's manifest, in write order.

A snapshot per task used to be a file of its own (temp file, rename, unlink of a stale
"missing" note): three or four metadata operations per record, twice per task. The journal
takes one `write` per record instead. Each line is a whole record:

  S <name> <json>     a stored manifest: whole ("base": null) or a delta of an earlier record
  A <name> <target>   the very same directory state as the earlier record `target`
  M <name> <json>     why `name` has no snapshot (a JSON string)

(tab-separated). Names are write-once: the first S or A of a name wins, and it wins over
any M. A line is appended with a single write on an O_APPEND descriptor, so a reader running
alongside sees whole lines; a torn last line (a crash mid-write) has no newline and is
ignored, and the next writer cuts it off before appending.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.workdir.manifest import Manifest
from engine.workdir.snapshot_files import fold_manifest_chain, write_all

JOURNAL_NAME = "journal.tsv"
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class _Record:
    kind: str
    """"S" stored, "M" missing (aliases are resolved to the S they name when indexed)."""
    start: int
    """Where the record's JSON starts in the journal's bytes (S and M)."""
    end: int


class JournalWriter:
    """Appends records; the caller serialises calls (ExecutionSnapshots holds its lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def stored_names(self) -> set[str]:
        """The names an earlier writer of this execution stored (write-once across writers)."""
        return {name for name, record in JournalIndex.load(self.path).records.items()
                if record.kind == "S"}

    def stored(self, name: str, data: dict[str, Any]) -> None:
        self._append(f"S\t{name}\t{json.dumps(data, separators=(',', ':'))}\n")

    def alias(self, name: str, target: str) -> None:
        self._append(f"A\t{name}\t{target}\n")

    def missing(self, name: str, reason: str) -> None:
        self._append(f"M\t{name}\t{json.dumps(reason)}\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _append(self, line: str) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, _OPEN_FLAGS, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn line from a crash: cut off
                    os.ftruncate(fd, _last_line_end(fd, size))
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        write_all(self._fd, line.encode("utf-8"))


class JournalIndex:
    """Where each name's record is in one read of the journal; manifests resolved on demand."""

    def __init__(self, data: bytes, records: dict[str, _Record]) -> None:
        self._data = data
        self.records = records

    @classmethod
    def load(cls, path: Path) -> JournalIndex:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        records: dict[str, _Record] = {}
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            cls._index_line(data, start, end, records)
            start = end + 1
        return cls(data, records)

    @staticmethod
    def _index_line(data: bytes, start: int, end: int, records: dict[str, _Record]) -> None:
        kind = data[start:start + 2]
        tab = data.find(b"\t", start + 2, end)
        if tab < 0 or kind not in (b"S\t", b"A\t", b"M\t"):
            return  # not a record (a torn line a later writer closed): skipped
        name = data[start + 2:tab].decode("utf-8", "replace")
        known = records.get(name)
        if known is not None and known.kind == "S":
            return  # write-once: the first stored record stays
        if kind == b"M\t":
            records[name] = _Record("M", tab + 1, end)
        elif kind == b"A\t":
            target = records.get(data[tab + 1:end].decode("utf-8", "replace"))
            if target is not None and target.kind == "S":
                records[name] = target  # the same bytes: resolved like the target
        else:
            records[name] = _Record("S", tab + 1, end)

    def has(self, name: str) -> bool:
        record = self.records.get(name)
        return record is not None and record.kind == "S"

    def missing_reason(self, name: str) -> str | None:
        record = self.records.get(name)
        if record is None or record.kind != "M":
            return None
        try:
            reason = json.loads(self._data[record.start:record.end])
        except ValueError:
            return "no snapshot was recorded"
        return reason if isinstance(reason, str) else str(reason)

    def manifest(self, name: str, max_chain: int) -> Manifest:
        """The stored manifest `name`, its deltas applied; ValueError says what is damaged."""
        chain: list[Any] = []
        record = self.records[name]
        while True:
            if len(chain) > max_chain:
                raise ValueError("its manifests form a loop")
            try:
                data = json.loads(self._data[record.start:record.end])
            except ValueError as exc:
                raise ValueError(f"the record of {name} ({exc})") from None
            chain.append(data)
            base = data.get("base") if isinstance(data, dict) else None
            if base is None:
                break
            earlier = self.records.get(base) if isinstance(base, str) else None
            if earlier is None or earlier.kind != "S" or earlier.start >= record.start:
                raise ValueError("its manifests form a loop" if earlier is not None
                                 else f"a base named {base!r} that was never stored")
            record = earlier
        return fold_manifest_chain(chain)



def _last_line_end(fd: int, size: int) -> int:
    """The length of the journal up to and including its last newline."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        at = os.pread(fd, end - start, start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0
