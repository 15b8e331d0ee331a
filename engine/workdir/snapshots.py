"""Per-task snapshots of working directories, so a replay can restore one byte for byte.

Layout under ROOT/<execution_id>/:
  blobs/ab/cdef…   one copy per distinct content (named by its blake2b digest)
  journal.tsv      every record in write order (see `engine.workdir.snapshot_journal`): what
                   the directory held, a delta against the previous snapshot of the same
                   directory when that is much smaller, an alias when nothing changed since
                   it, or why a snapshot was not stored (cap exceeded, unreadable file…)
  tmp/             blobs being written, renamed into place when whole
Executions recorded before the journal have manifests/<name>.json and missing/<name>.txt
instead; those are still read.

Blobs are copies, never hard links: a task that rewrites a file in place would otherwise
rewrite the snapshot too. The manifest says which contents are already stored, so an
incremental snapshot copies only the files a task changed, and writes only the delta.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from engine.workdir.manifest import FileEntry, Manifest, format_bytes, settled
from engine.workdir.snapshot_files import (
    READ_FLAGS,
    copy_hashing,
    fill_directory,
    is_inside,
    manifest_delta,
    read_manifest,
    unlink_quietly,
)
from engine.workdir.snapshot_journal import JOURNAL_NAME, JournalIndex, JournalWriter

_MAX_CHAIN = 16
"""Longest run of delta manifests before a full one, so reading a snapshot stays cheap."""
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
_BLOB_KEY = re.compile(r"[0-9a-f]{32}")
_S_IFMT, _S_IFREG = 0o170000, 0o100000


class SnapshotError(Exception):
    """A snapshot that does not exist, is damaged, or cannot be used as asked."""


@dataclass(frozen=True)
class SnapshotResult:
    """The outcome of one `record`: stored, or not and why."""

    stored: bool
    reason: str | None
    bytes_added: int


@dataclass(frozen=True)
class _Base:
    """The last snapshot stored for one directory: what the next one is a delta against."""

    name: str
    manifest: Manifest
    """As stored: every regular file with its blob key."""
    source: Manifest
    """As given to `record`: a scan reuses entry objects, so `is` finds what did not change."""
    depth: int


class _Refused(Exception):
    """A record that must not be stored; the message is the reason."""


class ExecutionSnapshots:
    """Snapshots of one execution's working directories under ROOT/<execution_id>/.

    `record` is thread-safe (one lock; parallel branches' snapshots take turns) and
    atomic: the manifest is renamed into place last. Reading methods may run alongside
    it, since stored blobs and manifests never change. Names are write-once.
    """

    def __init__(self, root: Path, execution_id: str, cap_bytes: int) -> None:
        _check_name(execution_id, "execution id")
        self.folder = Path(root) / execution_id
        self.cap_bytes = cap_bytes
        self._read_only = False
        self._lock = threading.Lock()
        self._blobs: set[str] = set()
        self._used = 0
        self._big: dict[tuple[str, int, int, int, int], str] = {}
        self._bases: dict[str, _Base] = {}
        self._fanout: set[str] = set()
        self._blobs_dir = str(self.folder / "blobs")
        self._tmp_dir = str(self.folder / "tmp")
        self._tmp_ready = False
        self._tmp_counter = itertools.count()
        self._journal = JournalWriter(self.folder / JOURNAL_NAME)
        self._stored: set[str] = set()
        self._index: tuple[int, JournalIndex] | None = None  # (journal size, its index), for reads
        self._legacy = False
        if cap_bytes > 0:  # a writer; readers must not sweep a running writer's tmp/
            self._load_blobs()
            self._stored = self._journal.stored_names()
            self._legacy = (self.folder / "manifests").is_dir()

    @staticmethod
    def open_existing(root: Path, execution_id: str) -> ExecutionSnapshots:
        """For reading (has, manifest, restore, read); `record` then raises."""
        snapshots = ExecutionSnapshots(root, execution_id, 0)
        snapshots._read_only = True
        return snapshots

    def _load_blobs(self) -> None:
        shutil.rmtree(self.folder / "tmp", ignore_errors=True)
        blobs = self.folder / "blobs"
        if not blobs.is_dir():
            return
        for fan in os.scandir(blobs):
            for blob in os.scandir(fan.path):
                self._blobs.add(fan.name + blob.name)
                self._used += blob.stat(follow_symlinks=False).st_size
            self._fanout.add(fan.name)

    # --- recording -------------------------------------------------------------------

    def record(self, name: str, directory: Path, manifest: Manifest) -> SnapshotResult:
        """Store `directory` as `manifest` describes it (its scan just now) under `name`."""
        _check_name(name, "snapshot name")
        if self._read_only:
            raise SnapshotError(f"snapshots of {self.folder.name} were opened read-only")
        if self.cap_bytes <= 0:
            return self._refuse(name, "snapshots are off (roost.toml [replay] snapshotCapMB = 0)")
        with self._lock:
            if name in self._stored or (self._legacy and self._legacy_has(name)):
                return SnapshotResult(False, f"a snapshot named {name} was already recorded; "
                                             "the first one is kept", 0)
            added: list[tuple[str, int]] = []
            base = self._bases.get(str(directory))
            if base is not None and manifest is base.source:  # nothing ran since the last record
                self._journal.alias(name, base.name)
                self._stored.add(name)
                return SnapshotResult(True, None, 0)
            try:
                stored, changed = self._copy_changed(Path(directory), manifest, base, added)
                as_delta = self._write_manifest(name, stored, changed, base)
            except _Refused as refused:
                self._forget(added)
                return self._refuse(name, str(refused))
            except OSError as exc:
                self._forget(added)
                return self._refuse(name, f"the snapshot could not be written ({exc})")
            depth = base.depth + 1 if base is not None and as_delta else 0
            self._bases[str(directory)] = _Base(name, stored, manifest, depth)
            self._stored.add(name)
            return SnapshotResult(True, None, sum(size for _, size in added))

    def _copy_changed(self, directory: Path, manifest: Manifest, base: _Base | None,
                      added: list[tuple[str, int]]) -> tuple[Manifest, list[str]]:
        """Copy the contents not stored yet. Returns the manifest to store (every file with its
        blob key) and the paths whose entries are not the base's."""
        source = base.source.entries if base is not None else {}
        known = base.manifest.entries if base is not None else {}
        entries: dict[str, FileEntry] = {}
        changed: list[str] = []
        to_copy: list[FileEntry] = []
        needed, pending = 0, set()
        for path, entry in manifest.entries.items():
            src = source.get(path)
            # An equal entry will do too when its digest (or link) vouches for the content.
            if (src is entry or (src == entry and (entry.digest or entry.link) is not None)) and (
                    stored := known.get(path)) is not None:
                entries[path] = stored
                continue
            changed.append(path)
            if entry.mode & _S_IFMT != _S_IFREG:
                entries[path] = entry
                continue
            key = entry.digest or self._big.get(_stat_key(entry))
            if key is not None and key in self._blobs:
                entries[path] = entry if entry.digest == key else replace(entry, digest=key)
                continue
            if entry.digest is None or entry.digest not in pending:
                needed += entry.size
                pending.add(entry.digest)
            to_copy.append(entry)
        self._check_cap(needed)
        for entry in to_copy:
            if entry.digest in self._blobs:  # the same content as a file copied just before
                entries[entry.path] = entry
                continue
            copied = self._copy_file(directory, entry, added)
            if copied is not None:
                entries[entry.path] = copied
            else:
                entries.pop(entry.path, None)  # gone since the scan: not there now either
        return Manifest(entries, manifest.directories, manifest.scanned_ns), changed

    def _check_cap(self, extra: int) -> None:
        if self._used + extra > self.cap_bytes:
            raise _Refused(
                f"the snapshot cap of {format_bytes(self.cap_bytes)} (roost.toml [replay] "
                f"snapshotCapMB) would be exceeded: {format_bytes(self._used + extra)} needed "
                f"({format_bytes(self._used)} already stored by this execution)")

    def _copy_file(self, directory: Path, entry: FileEntry,
                   added: list[tuple[str, int]]) -> FileEntry | None:
        """Copy one file into a blob, hashing what is written; its entry as copied."""
        tmp = self._tmp_path()
        started = time.time_ns()
        try:
            src = os.open(f"{directory}/{entry.path}", READ_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _Refused(f"{entry.path} cannot be read ({exc.strerror})") from None
        try:
            before = os.fstat(src)
            if before.st_mode & _S_IFMT != _S_IFREG:
                raise _Refused(f"{entry.path} changed into something that is not a file")
            key, size = copy_hashing(src, tmp, before.st_size)
            after = os.fstat(src)
        except OSError as exc:
            unlink_quietly(tmp)
            raise _Refused(f"{entry.path} cannot be copied ({exc.strerror or exc})") from None
        finally:
            os.close(src)
        if key in self._blobs:
            unlink_quietly(tmp)
        else:
            try:
                self._check_cap(size)  # the file grew since the scan
            except _Refused:
                unlink_quietly(tmp)
                raise
            if key[:2] not in self._fanout:
                os.makedirs(f"{self._blobs_dir}/{key[:2]}", exist_ok=True)
                self._fanout.add(key[:2])
            os.replace(tmp, self._blob_path(key))
            self._blobs.add(key)
            self._used += size
            added.append((key, size))
        copied = FileEntry(entry.path, size, after.st_mtime_ns, after.st_ino, after.st_mode, key,
                           None, after.st_ctime_ns)
        # Only files the scan could not vouch for by digest are looked up by stat later.
        if entry.digest is None and _stat_key(copied) == _stat_key(_entry_of(entry.path, before)) \
                and settled(after.st_ctime_ns, started):
            self._big[_stat_key(copied)] = key
        return copied

    def _forget(self, added: list[tuple[str, int]]) -> None:
        """Drop the blobs a refused record added: no manifest refers to them."""
        for key, size in added:
            unlink_quietly(self._blob_path(key))
            self._blobs.discard(key)
            self._used -= size
        self._big = {k: v for k, v in self._big.items() if v in self._blobs}

    def _write_manifest(self, name: str, stored: Manifest, changed: list[str],
                        base: _Base | None) -> bool:
        """Write the manifest, as a delta against `base` when that is much smaller; True if so."""
        data = manifest_delta(base.name, base.manifest, stored, changed) \
            if base is not None and base.depth + 1 < _MAX_CHAIN else None
        self._journal.stored(name, data if data is not None else stored.to_json() | {"base": None})
        return data is not None

    def _refuse(self, name: str, reason: str) -> SnapshotResult:
        try:
            self._journal.missing(name, reason)
        except OSError:
            pass  # the result still says why; replay will say "no snapshot was recorded"
        return SnapshotResult(False, reason, 0)

    def close(self) -> None:
        """Close the journal (a later `record` opens it again)."""
        with self._lock:
            self._journal.close()

    def _tmp_path(self) -> str:
        if not self._tmp_ready:
            os.makedirs(self._tmp_dir, exist_ok=True)
            self._tmp_ready = True
        return f"{self._tmp_dir}/{os.getpid()}-{next(self._tmp_counter)}"

    def _blob_path(self, key: str) -> str:
        return f"{self._blobs_dir}/{key[:2]}/{key[2:]}"

    # --- reading ---------------------------------------------------------------------

    def has(self, name: str) -> bool:
        return _NAME.fullmatch(name) is not None and (self._read_index().has(name) or self._legacy_has(name))

    def _legacy_has(self, name: str) -> bool:
        return (self.folder / "manifests" / f"{name}.json").is_file()

    def _read_index(self) -> JournalIndex:
        """The journal as it is now; read again only when it grew (a running writer's)."""
        path = self.folder / JOURNAL_NAME
        try:
            size = path.stat().st_size
        except OSError:
            size = -1
        if self._index is None or self._index[0] != size:
            self._index = (size, JournalIndex.load(path))
        return self._index[1]

    def missing_reason(self, name: str) -> str | None:
        """Why `name` has no snapshot; None when it has one."""
        if self.has(name):
            return None
        try:
            _check_name(name, "snapshot name")
            reason = self._read_index().missing_reason(name)
            if reason is not None:
                return reason
            return (self.folder / "missing" / f"{name}.txt").read_text(encoding="utf-8").strip()
        except (OSError, SnapshotError):
            return "no snapshot was recorded"

    def manifest(self, name: str) -> Manifest | None:
        """The snapshot's manifest (every regular file has its blob key as digest), or None."""
        if not self.has(name):
            return None
        return self._resolve(name)

    def _resolve(self, name: str) -> Manifest:
        try:
            index = self._read_index()
            if index.has(name):
                return index.manifest(name, _MAX_CHAIN)
            return read_manifest(self.folder / "manifests", name, _MAX_CHAIN, _NAME)
        except ValueError as exc:
            raise SnapshotError(f"snapshot {name} is damaged: {exc}") from None

    def read(self, name: str, path: str) -> bytes | None:
        """A file's bytes as in that snapshot (for diffs); None if it held no such file."""
        manifest = self.manifest(name)
        entry = manifest.entries.get(path) if manifest is not None else None
        if entry is None or entry.mode & _S_IFMT != _S_IFREG:
            return None
        with open(self._open_blob(name, entry), "rb") as blob:
            return blob.read()

    def _checked_blob(self, name: str, entry: FileEntry) -> str:
        if entry.digest is None or _BLOB_KEY.fullmatch(entry.digest) is None:
            raise SnapshotError(f"snapshot {name} is damaged: {entry.path} has no valid content key")
        return self._blob_path(entry.digest)

    def _open_blob(self, name: str, entry: FileEntry) -> int:
        try:
            return os.open(self._checked_blob(name, entry), READ_FLAGS)
        except FileNotFoundError:
            raise SnapshotError(f"snapshot {name} is damaged: the content of {entry.path} is gone") from None

    def restore(self, name: str, target: Path) -> None:
        """Recreate the directory as snapshot `name` saw it in `target`, which must be empty
        or absent: files byte for byte with their permission bits and mtimes, symlinks as
        they were (even ones pointing outside: that is what the task saw; none is followed,
        they are made last), and empty directories.

        Built in a sibling folder and renamed onto `target`, so a failure leaves nothing.
        """
        manifest = self.manifest(name)
        if manifest is None:
            raise SnapshotError(f"no snapshot {name} of execution {self.folder.name}: "
                                f"{self.missing_reason(name)}")
        target = Path(target)
        if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
            raise SnapshotError(f"cannot restore snapshot {name} into {target}: "
                                "it must be an empty directory or not exist yet")
        for path in (*manifest.directories, *manifest.entries):
            if not is_inside(path):  # a tampered manifest must not write outside the target
                raise SnapshotError(f"snapshot {name} is damaged: {path!r} is not a path "
                                    "inside the directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        building = target.parent / f".{target.name}.restoring-{uuid.uuid4().hex[:8]}"
        try:
            building.mkdir()
            try:
                fill_directory(manifest, building, lambda entry: self._open_blob(name, entry))
            except ValueError as exc:
                raise SnapshotError(f"snapshot {name} is damaged: {exc}") from None
            os.replace(building, target)
        except OSError as exc:
            raise SnapshotError(f"cannot restore snapshot {name} into {target}: {exc}") from None
        finally:
            shutil.rmtree(building, ignore_errors=True)


def prune_snapshots(root: Path, keep: Iterable[str]) -> int:
    """Delete the execution folders under `root` not named in `keep`; how many went."""
    kept = set(keep)
    removed = 0
    try:
        folders = list(os.scandir(root))
    except OSError:
        return 0
    for folder in folders:
        if folder.name in kept or not folder.is_dir(follow_symlinks=False):
            continue
        shutil.rmtree(folder.path, ignore_errors=True)
        removed += not os.path.lexists(folder.path)
    return removed


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise SnapshotError(f"{what} {name!r} must be letters, digits, '_', '-' or '.' "
                            "(not starting with '.' or '-')")


def _stat_key(entry: FileEntry) -> tuple[str, int, int, int, int]:
    return entry.path, entry.size, entry.mtime_ns, entry.inode, entry.ctime_ns


def _entry_of(path: str, st: os.stat_result) -> FileEntry:
    return FileEntry(path, st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode, None, None,
                     st.st_ctime_ns)
