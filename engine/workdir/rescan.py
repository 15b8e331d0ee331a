"""A manifest brought up to date by listing only the folders a watch says changed.

`engine.workdir.manifest.scan` walks a whole tree; after a task that wrote one file in a
10,000-file directory that is 10,000 lstats for one change. Given the folders and names
`engine.workdir.watch` saw change, `rescan` lists just those folders (one level each),
re-reads the named files, drops what vanished, and walks folders that are new (watching
each before it is listed, so nothing created meanwhile is missed). Unnamed files of a
listed folder keep their previous entry when their stat did not move, as in `scan`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from engine.workdir.manifest import SMALL_FILE_BYTES, FileEntry, Manifest, digest_file, settled

_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def rescan(directory: str, previous: Manifest, changed: Mapping[str, set[str]],
           watch_folder: Callable[[str], None]) -> Manifest:
    """`previous` with the folders in `changed` (relative, "" the root) listed again.

    `watch_folder(rel)` is called for every new folder before it is listed."""
    return _Listing(directory, previous, watch_folder, None).run(changed)


def walk_watching(directory: str, previous: Manifest | None, watch_folder: Callable[[str], None]) -> Manifest:
    """The whole tree, like `scan`, but every folder is watched before it is listed, so a
    change made in it after its listing is an event. Unchanged files keep their previous
    entry under `scan`'s rule (not within a clock tick of the previous scan)."""
    base = previous if previous is not None else Manifest({}, frozenset(), 0)
    listing = _Listing(directory, base, watch_folder, base.scanned_ns)
    return listing.run({folder: set() for folder in ("", *base.directories)})


class _Listing:
    """One update: the entries being rebuilt, and which paths sit in which folder."""

    def __init__(self, root: str, previous: Manifest, watch_folder: Callable[[str], None],
                 trust_ns: int | None) -> None:
        self.root = root
        self.previous = previous
        self.watch_folder = watch_folder
        self.trust_ns = trust_ns  # None: the watch vouches for every file it did not name
        self.entries = dict(previous.entries)
        self.directories = set(previous.directories)
        self.children: dict[str, list[str]] = {}
        for path in list(self.entries) + list(self.directories):
            self.children.setdefault(path.rpartition("/")[0], []).append(path)

    def run(self, changed: Mapping[str, set[str]]) -> Manifest:
        started = time.time_ns()
        for folder in sorted(changed, key=len):
            if folder and folder not in self.directories:
                continue  # gone, or new: its parent's listing walks it
            if self.trust_ns is not None:
                self.watch_folder(folder)
            _relist(self, folder, changed[folder])
        return Manifest(self.entries, frozenset(self.directories), started)


def _relist(state: _Listing, folder: str, names: set[str]) -> None:
    root, entries, directories, children = state.root, state.entries, state.directories, state.children
    prefix = f"{folder}/" if folder else ""
    seen: set[str] = set()
    pending: list[str] = []
    try:
        dir_fd = os.open(f"{root}/{folder}" if folder else root, _DIR_FLAGS)
    except OSError:
        dir_fd = -1  # gone meanwhile: everything below it goes
    if dir_fd >= 0:
        try:
            with os.scandir(dir_fd) as listing:
                for item in listing:
                    rel = prefix + item.name
                    try:
                        st = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    kind = st.st_mode & _S_IFMT
                    if kind == _S_IFDIR:
                        seen.add(rel)
                        if rel not in directories:
                            directories.add(rel)
                            pending.append(rel)
                        continue
                    prev = entries.get(rel)
                    if prev is not None and state.trust_ns is not None and not _settled(prev, state.trust_ns):
                        prev = None
                    entry = _entry(item.name, rel, st, prev, item.name in names, dir_fd)
                    if entry is not None:
                        entries[rel] = entry
                        seen.add(rel)
        except OSError:
            pass  # the folder went away while listed: what was seen stays
        finally:
            os.close(dir_fd)
    for path in children.get(folder, ()):
        if path not in seen:
            _drop(path, entries, directories, children)
    for rel in pending:  # new folders: watched first, then walked whole
        state.watch_folder(rel)
        _relist(state, rel, set())


def _settled(prev: FileEntry, trust_ns: int) -> bool:
    return settled(prev.ctime_ns, trust_ns) if trust_ns else False


def _entry(name: str, rel: str, st: os.stat_result, prev: FileEntry | None, named: bool,
           dir_fd: int) -> FileEntry | None:
    """The file's entry: the previous one when it was not named and its stat did not move."""
    mode = st.st_mode
    kind = mode & _S_IFMT
    if kind == _S_IFREG:
        if (not named and prev is not None and prev.mtime_ns == st.st_mtime_ns
                and prev.ctime_ns == st.st_ctime_ns and prev.size == st.st_size
                and prev.inode == st.st_ino and prev.mode == mode):
            return prev
        digest = digest_file(name, st.st_size, dir_fd) if st.st_size <= SMALL_FILE_BYTES else None
        return FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino, mode, digest, None, st.st_ctime_ns)
    if kind == _S_IFLNK:
        try:
            target = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            return None
        if prev is not None and prev.link == target and prev.mtime_ns == st.st_mtime_ns \
                and prev.inode == st.st_ino:
            return prev
        return FileEntry(rel, st.st_size, st.st_mtime_ns, st.st_ino, mode, None, target, st.st_ctime_ns)
    return None  # FIFOs, sockets and devices are left out, as by `scan`


def _drop(path: str, entries: dict[str, FileEntry], directories: set[str],
          children: dict[str, list[str]]) -> None:
    """Forget `path` and, when it was a folder, everything below it."""
    entries.pop(path, None)
    if path in directories:
        directories.discard(path)
        for child in children.get(path, ()):
            _drop(child, entries, directories, children)
