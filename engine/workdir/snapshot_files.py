"""What snapshots are made of on disk: blobs copied and hashed in one go, files restored
from blobs without following links, and manifests stored as deltas of an earlier one.

Kept apart from `engine.workdir.snapshots`, which decides what to copy and when; this module
only moves bytes and encodes manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.workdir.manifest import (
    DIGEST_BYTES,
    SMALL_FILE_BYTES,
    FileEntry,
    Manifest,
    digest_bytes,
    entry_from_json,
    entry_to_json,
)

READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""Never through a symlink, never blocking on a FIFO that replaced a file."""
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
"""A new file only: nothing is overwritten, nothing is written through a symlink."""
_CHUNK = 1 << 20
_S_IFMT, _S_IFREG, _S_IFLNK = 0o170000, 0o100000, 0o120000


def is_inside(path: str) -> bool:
    """Whether a manifest path stays below the directory it is joined to: relative, no
    empty, "." or ".." parts, no NUL or backslash (what a tampered manifest would use)."""
    return bool(path) and "\0" not in path and "\\" not in path and not any(
        part in ("", ".", "..") for part in path.split("/"))


def copy_hashing(src: int, tmp: str, size: int) -> tuple[str, int]:
    """Copy the open file `src` into a new file `tmp`; the digest and length of exactly
    what was written, so a blob's name always matches its bytes."""
    if size <= SMALL_FILE_BYTES:
        chunks = []
        while chunk := os.read(src, _CHUNK):
            chunks.append(chunk)
        data = b"".join(chunks)
        out = os.open(tmp, CREATE_FLAGS, 0o644)
        try:
            write_all(out, data)
        finally:
            os.close(out)
        return digest_bytes(data), len(data)
    # Big files: an in-kernel copy (a reflink on btrfs/xfs), then the copy is hashed, so the
    # key names the blob's own bytes even if the source changes meanwhile.
    with open(tmp, "x+b") as copy:
        kernel_copy(src, copy.fileno())
        copy.seek(0)
        hasher = hashlib.blake2b(digest_size=DIGEST_BYTES)
        length = 0
        while chunk := copy.read(_CHUNK):
            hasher.update(chunk)
            length += len(chunk)
    return hasher.hexdigest(), length


def restore_file(blob: int, dest: str, mode: int, mtime_ns: int) -> None:
    """Create `dest` (it must not exist) with the open blob's bytes, permission bits and mtime."""
    out = os.open(dest, CREATE_FLAGS, 0o600)
    try:
        kernel_copy(blob, out)
        os.fchmod(out, mode & 0o7777)
        os.utime(out, ns=(mtime_ns, mtime_ns))
    finally:
        os.close(out)


def kernel_copy(src: int, dst: int) -> None:
    """All of `src` into `dst` from their current offsets (both at 0 here)."""
    try:
        while os.copy_file_range(src, dst, 1 << 30):
            pass
        return
    except OSError:
        os.lseek(src, 0, os.SEEK_SET)  # EXDEV and friends: start over the portable way
        os.lseek(dst, 0, os.SEEK_SET)
        os.ftruncate(dst, 0)
    while chunk := os.read(src, _CHUNK):
        write_all(dst, chunk)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def manifest_delta(base_name: str, base: Manifest, stored: Manifest,
                   changed: list[str]) -> dict[str, Any] | None:
    """`stored` as changes to `base` (the snapshot `base_name`), or None when that would not
    be much smaller than the whole. Paths not in `changed` hold the base's very entries."""
    removed = base.entries.keys() - stored.entries.keys() if stored is not base else set()
    if len(changed) + len(removed) > len(stored) // 2:
        return None
    return {
        "version": 1, "base": base_name, "scannedNs": stored.scanned_ns,
        "entries": {path: entry_to_json(stored.entries[path]) for path in changed
                    if path in stored.entries},
        "removed": sorted(removed),
        "directoriesAdded": sorted(stored.directories - base.directories),
        "directoriesRemoved": sorted(base.directories - stored.directories),
    }


def apply_delta(manifest: Manifest, delta: dict[str, Any]) -> Manifest:
    """The inverse of manifest_delta; raises ValueError, KeyError or TypeError on bad data."""
    entries = dict(manifest.entries)
    for path in delta["removed"]:
        entries.pop(path, None)
    for path, row in delta["entries"].items():
        entries[path] = entry_from_json(path, row)
    directories = (manifest.directories - set(delta["directoriesRemoved"])) | set(delta["directoriesAdded"])
    return Manifest(entries, frozenset(directories), int(delta["scannedNs"]))


def read_manifest(folder: Path, name: str, max_chain: int, names: re.Pattern[str]) -> Manifest:
    """The manifest `name` in `folder`, its chain of deltas applied; ValueError says what is
    wrong with a damaged one (a loop, a missing base, a bad name or shape)."""
    chain: list[Any] = []
    current: Any = name
    while current is not None:
        if len(chain) > max_chain:
            raise ValueError("its manifests form a loop")
        if not isinstance(current, str) or names.fullmatch(current) is None:
            raise ValueError(f"a base named {current!r}")
        try:
            data = json.loads((folder / f"{current}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{current}.json ({exc})") from None
        chain.append(data)
        current = data.get("base") if isinstance(data, dict) else None
    return fold_manifest_chain(chain)


def fold_manifest_chain(chain: list[Any]) -> Manifest:
    """A manifest from its chain as read (newest first, the full manifest last): the deltas
    applied oldest to newest; ValueError when one has the wrong shape."""
    try:
        manifest = Manifest.from_json(chain.pop())
        while chain:
            manifest = apply_delta(manifest, chain.pop())
    except (TypeError, AttributeError, KeyError) as exc:
        raise ValueError(f"a manifest of the wrong shape ({exc!r})") from None
    return manifest


def fill_directory(manifest: Manifest, folder: Path, open_blob: Callable[[FileEntry], int]) -> None:
    """Write what `manifest` lists into the empty `folder`: directories, files from their
    blobs (`open_blob` opens one), then symlinks last, so no file is written through one.
    ValueError names what is damaged in the manifest."""
    made = {""}
    for directory in sorted(manifest.directories):
        os.makedirs(f"{folder}/{directory}", exist_ok=True)
        made.add(directory)
    links = []
    for path, entry in manifest.entries.items():
        kind = entry.mode & _S_IFMT
        if kind == _S_IFLNK and entry.link is not None:
            links.append(entry)
            continue
        if kind != _S_IFREG:
            raise ValueError(f"{path} is neither file nor symlink")
        parent = path.rpartition("/")[0]
        if parent not in made:
            os.makedirs(f"{folder}/{parent}", exist_ok=True)
            made.add(parent)
        blob = open_blob(entry)
        try:
            restore_file(blob, f"{folder}/{path}", entry.mode, entry.mtime_ns)
        finally:
            os.close(blob)
    linked = {entry.path for entry in links}
    for entry in links:  # last: no file above was written through one
        if any(parent in linked for parent in _parents(entry.path)):
            raise ValueError(f"{entry.path} is below a symlink")
        dest = folder / entry.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(entry.link or "", dest)
        try:
            os.utime(dest, ns=(entry.mtime_ns, entry.mtime_ns), follow_symlinks=False)
        except (NotImplementedError, OSError):
            pass  # a symlink's own mtime is cosmetic


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
