"""What a working directory holds, and what a task changed in it.

The executor scans a shared working directory before and after each task. A scan
must stay cheap for a 10,000-file directory, so it lstats every file (one syscall
each) and hashes only files whose stat changed since the previous manifest; an
unchanged file keeps its previous entry object as-is. Content hashes are what let
`compare` catch a same-size rewrite that kept its mtime, and what lets
`engine.workdir.snapshots` store each content once.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SMALL_FILE_BYTES = 1 << 20
"""Regular files up to this size get a content digest in the manifest; bigger ones are
compared by size and mtime (snapshots still hash them, while copying)."""

DIGEST_BYTES = 16

_RACY_NS = 50_000_000
"""File timestamps come from the kernel's coarse clock, which lags real time by up to one
tick (10 ms at HZ=100). A file whose ctime is this close to a scan's start could be
rewritten after the scan with the very same stat, so its digest is not trusted later."""
_RACY_COARSE_NS = 2_000_000_000
"""The same for filesystems that keep whole seconds (FAT keeps two)."""

_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000
_S_IFLNK = 0o120000
_EXEC_BITS = 0o111
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file or symlink, as lstat saw it."""

    path: str
    """POSIX path relative to the scanned root, e.g. "out/data.csv"."""
    size: int
    mtime_ns: int
    inode: int
    mode: int
    """st_mode: the type bits and the permission bits a restore puts back."""
    digest: str | None
    """Hex blake2b of the content for regular files up to SMALL_FILE_BYTES; None for bigger,
    unreadable or changing-while-read files and for symlinks."""
    link: str | None = None
    """A symlink's target, as written; symlinks are recorded, never followed."""
    ctime_ns: int = 0
    """Part of the "unchanged" test because no tool can set it: `tar -x`, `cp -p` and
    `os.utime` restore an mtime, never a ctime."""

    @property
    def is_symlink(self) -> bool:
        return self.mode & _S_IFMT == _S_IFLNK


@dataclass(frozen=True)
class Manifest:
    """Every regular file and symlink below a directory, and every sub-directory."""

    entries: Mapping[str, FileEntry]
    directories: frozenset[str]
    """Every sub-directory, relative and POSIX-style, so empty ones can be restored."""
    scanned_ns: int = 0
    """Wall clock when the scan started; decides which digests a later scan may reuse
    (0: none)."""

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries.values())

    def to_json(self) -> dict[str, Any]:
        """A compact, JSON-ready form: one short list per entry keeps 10,000 files cheap."""
        return {
            "version": 1,
            "scannedNs": self.scanned_ns,
            "directories": sorted(self.directories),
            "entries": {path: entry_to_json(e) for path, e in self.entries.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The inverse of to_json; raises ValueError when `data` is not a manifest."""
        try:
            if data.get("version") != 1:
                raise ValueError(f"unknown manifest version {data.get('version')!r}")
            entries = {path: entry_from_json(path, row) for path, row in data["entries"].items()}
            directories = data["directories"]
            if not all(isinstance(d, str) for d in directories):
                raise ValueError("directories must be strings")
            return cls(entries, frozenset(directories), int(data.get("scannedNs", 0)))
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a manifest ({exc!r})") from None


def entry_to_json(entry: FileEntry) -> list[Any]:
    """One entry as a short list (the path is its key)."""
    return [entry.size, entry.mtime_ns, entry.inode, entry.mode, entry.digest, entry.link,
            entry.ctime_ns]


def entry_from_json(path: Any, row: Any) -> FileEntry:
    """The inverse of entry_to_json; raises ValueError on the wrong shape or types."""
    try:
        size, mtime_ns, inode, mode, digest, link, ctime_ns = row
    except (TypeError, ValueError):
        raise ValueError(f"entry {path!r} is not a 7-item list") from None
    if (not isinstance(path, str) or not all(type(v) is int for v in (size, mtime_ns, inode, mode, ctime_ns))
            or not (digest is None or isinstance(digest, str))
            or not (link is None or isinstance(link, str))):
        raise ValueError(f"entry {path!r} has the wrong types")
    return FileEntry(path, size, mtime_ns, inode, mode, digest, link, ctime_ns)


def settled(ctime_ns: int, checked_ns: int) -> bool:
    """True when a file whose ctime is `ctime_ns`, seen at wall-clock `checked_ns`, cannot
    have changed since without its ctime changing too (so its stat still vouches for it)."""
    if ctime_ns % 1_000_000_000 == 0:
        return ctime_ns < checked_ns - _RACY_COARSE_NS
    return ctime_ns < checked_ns - _RACY_NS


def digest_bytes(data: bytes) -> str:
    """The content digest used by manifests and snapshot blobs."""
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES).hexdigest()


def _digest_file(name: str, size: int, dir_fd: int) -> str | None:
    """The digest of a small regular file, or None when it cannot be read whole as `size`
    bytes (permission denied, vanished, replaced, growing)."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, SMALL_FILE_BYTES + 1)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    # A length other than lstat's means a writer is busy: no digest rather than a wrong one.
    return digest_bytes(data) if len(data) == size else None


digest_file = _digest_file
"""Public for `engine.workdir.rescan`, which re-reads the files a watch named."""


def scan(directory: os.PathLike[str] | str, previous: Manifest | None = None) -> Manifest:
    """Walk `directory` with os.scandir (iteratively, so depth is unlimited), lstat only,
    never following symlinks; FIFOs, sockets and devices are left out.

    A regular file whose (size, mtime_ns, inode, ctime_ns, mode) equals its entry in
    `previous` reuses that entry object and its digest without being opened: this is what
    keeps the per-task cost small. Files changed within a clock tick of the previous scan
    are hashed again (see `settled`). Files that vanish or cannot be read never make it
    raise (an unreadable file gets no digest); a missing root gives an empty manifest.
    """
    started = time.time_ns()
    old = previous.entries if previous is not None else {}
    old_get = old.get
    # Inlined `settled`: this loop runs once per file.
    trust_before = previous.scanned_ns - _RACY_NS if previous is not None else 0
    coarse_before = previous.scanned_ns - _RACY_COARSE_NS if previous is not None else 0
    entries: dict[str, FileEntry] = {}
    directories: set[str] = set()
    pending: list[tuple[str, str]] = [(os.fspath(directory), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            # A descriptor makes every lstat below an fstatat of one name rather than a walk
            # of the whole path, and O_NOFOLLOW keeps a folder swapped for a symlink out.
            dir_fd = os.open(folder, _DIR_FLAGS)
        except OSError:
            continue
        try:
            with os.scandir(dir_fd) as listing:
                for item in listing:
                    try:
                        st = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    name = item.name
                    rel = prefix + name
                    mode = st.st_mode
                    kind = mode & _S_IFMT
                    if kind == _S_IFREG:
                        size = st.st_size
                        prev = old_get(rel)
                        if (prev is not None and prev.mtime_ns == st.st_mtime_ns
                                and prev.ctime_ns == st.st_ctime_ns and prev.size == size
                                and prev.inode == st.st_ino and prev.mode == mode
                                and (ctime := prev.ctime_ns) < trust_before
                                and (ctime % 1_000_000_000 or ctime < coarse_before)):
                            entries[rel] = prev
                            continue
                        digest = _digest_file(name, size, dir_fd) if size <= SMALL_FILE_BYTES else None
                        entries[rel] = FileEntry(rel, size, st.st_mtime_ns, st.st_ino, mode, digest,
                                                 None, st.st_ctime_ns)
                    elif kind == _S_IFDIR:
                        directories.add(rel)
                        pending.append((f"{folder}/{name}", rel + "/"))
                    elif kind == _S_IFLNK:
                        try:
                            target = os.readlink(name, dir_fd=dir_fd)
                        except OSError:
                            continue
                        entries[rel] = FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino, mode,
                                                 None, target, st.st_ctime_ns)
        except OSError:
            pass  # the folder went away while listed: what was seen stays
        finally:
            os.close(dir_fd)
    return Manifest(entries, frozenset(directories), started)


class ChangeKind(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class FileChange:
    """One file or symlink a task added, modified or deleted (directories are not listed)."""

    path: str
    kind: ChangeKind
    size_before: int | None
    size_after: int | None


@dataclass(frozen=True)
class ChangeSet:
    """What changed between two manifests, sorted by path."""

    changes: tuple[FileChange, ...] = field(default_factory=tuple)

    def _of(self, kind: ChangeKind) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    @property
    def added(self) -> tuple[FileChange, ...]:
        return self._of(ChangeKind.ADDED)

    @property
    def modified(self) -> tuple[FileChange, ...]:
        return self._of(ChangeKind.MODIFIED)

    @property
    def deleted(self) -> tuple[FileChange, ...]:
        return self._of(ChangeKind.DELETED)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def size_delta(self) -> int:
        return sum((c.size_after or 0) - (c.size_before or 0) for c in self.changes)

    def summary(self) -> str:
        """E.g. "2 added, 1 modified, 1 deleted (+3.1 KiB)"; "no changes" when empty."""
        if not self.changes:
            return "no changes"
        counts = [f"{len(group)} {kind.value}" for kind in ChangeKind
                  if (group := self._of(kind))]
        delta = self.size_delta
        sign = "+" if delta > 0 else "-" if delta < 0 else "±"
        return f"{', '.join(counts)} ({sign}{format_bytes(abs(delta))})"

    def to_json(self) -> dict[str, Any]:
        return {"changes": [{"path": c.path, "kind": c.kind.value, "sizeBefore": c.size_before,
                             "sizeAfter": c.size_after} for c in self.changes]}

    @classmethod
    def from_json(cls, data: Any) -> ChangeSet:
        """The inverse of to_json; raises ValueError on anything else."""
        try:
            return cls(tuple(FileChange(str(c["path"]), ChangeKind(c["kind"]), c.get("sizeBefore"),
                                        c.get("sizeAfter")) for c in data["changes"]))
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a change set ({exc!r})") from None


def compare(before: Manifest, after: Manifest) -> ChangeSet:
    """Files and symlinks added, modified or deleted from `before` to `after`.

    Modified means: the digests differ when both sides have one; otherwise the size, then
    the mtime differ. A change of type, symlink target or executable bits counts too;
    a bare `touch` of a hashed file does not.
    """
    if after is before:  # the watch saw nothing: the very same manifest
        return ChangeSet()
    old = before.entries
    changes: list[FileChange] = []
    for path, new in after.entries.items():
        prev = old.get(path)
        if prev is new:  # a scan reuses the entry object of every unchanged file
            continue
        if prev is None:
            changes.append(FileChange(path, ChangeKind.ADDED, None, new.size))
        elif _differs(prev, new):
            changes.append(FileChange(path, ChangeKind.MODIFIED, prev.size, new.size))
    for path in old.keys() - after.entries.keys():
        changes.append(FileChange(path, ChangeKind.DELETED, old[path].size, None))
    changes.sort(key=lambda c: c.path)
    return ChangeSet(tuple(changes))


def _differs(a: FileEntry, b: FileEntry) -> bool:
    if a.mode & _S_IFMT != b.mode & _S_IFMT or a.link != b.link:
        return True
    if a.link is not None:  # the same target: a re-created symlink is not a change
        return False
    if a.mode & _EXEC_BITS != b.mode & _EXEC_BITS:
        return True
    if a.digest is not None and b.digest is not None:
        return a.digest != b.digest
    return a.size != b.size or a.mtime_ns != b.mtime_ns


def format_bytes(size: int) -> str:
    """1536 → "1.5 KiB"; whole values drop the decimal ("512 MiB")."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def sizes_text(change: FileChange) -> str:
    """``1.2 KiB`` (added), ``88 B`` (deleted), ``300 B → 412 B`` (modified)."""
    if change.kind == ChangeKind.ADDED:
        return format_bytes(change.size_after or 0)
    if change.kind == ChangeKind.DELETED:
        return format_bytes(change.size_before or 0)
    return f"{format_bytes(change.size_before or 0)} → {format_bytes(change.size_after or 0)}"
