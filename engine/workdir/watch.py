"""Which folders of a working directory changed, told by the kernel (Linux inotify).

Tracking a task's changes used to walk the whole directory after every task, and before
it when anything may have touched it. With a watch on every folder of the tree, the
kernel queues an event for each change as it happens (synchronously, in the writing
process's system call), so reading the queue after the task says exactly which folders
to look at again, and that none need a look when the queue is empty. This is a direct
inotify through ctypes: no thread, no latency, the events are read when asked for.

Each subscriber (a task running in the directory, and "between tasks") gets every event
drained while it is open. Anything the watch cannot vouch for makes `Dirty.unknown` true
and the caller walks the whole tree: a queue overflow, a folder moved (the watches below
it would name the wrong paths), the root itself deleted or moved. Where inotify is not
available (not Linux, no watches left) `DirectoryWatch.open` raises WatchUnavailable and
the caller walks every time, as before. Not seen by inotify: writes through a shared
memory mapping after the file was closed, and writes through a hard link from outside
the tree.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF = 0x400, 0x800
_IN_Q_OVERFLOW, _IN_IGNORED = 0x4000, 0x8000
_IN_ONLYDIR, _IN_DONT_FOLLOW, _IN_ISDIR = 0x1000000, 0x2000000, 0x40000000
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
         | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_ONLYDIR | _IN_DONT_FOLLOW)
_EVENT = struct.Struct("iIII")
_BETWEEN = "\0between"
T = TypeVar("T")


class WatchUnavailable(Exception):
    """inotify cannot watch this tree (not Linux, out of watches or instances)."""


@dataclass
class Dirty:
    """What changed while a subscriber was open: folder (relative, "" the root) → names in it."""

    folders: dict[str, set[str]] = field(default_factory=dict)
    unknown: bool = False
    """Nothing can be said: walk the whole tree."""

    @property
    def empty(self) -> bool:
        return not self.folders and not self.unknown


_libc: ctypes.CDLL | None = None


def _load_libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the libc already loaded; find_library runs ldconfig
            libc.inotify_init1.argtypes = [ctypes.c_int]
            libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
            libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        except (OSError, AttributeError) as exc:
            raise WatchUnavailable(f"no inotify here ({exc})") from None
        _libc = libc
    return _libc


class DirectoryWatch:
    """inotify watches on one directory tree. Thread-safe (parallel branches share a directory)."""

    def __init__(self, root: str, libc: ctypes.CDLL, fd: int) -> None:
        self.root = root
        self._libc = libc
        self._fd = fd
        self._folders: dict[int, str] = {}   # watch descriptor → folder, relative to root
        self._subs: dict[str, Dirty] = {_BETWEEN: Dirty()}
        self._lock = threading.Lock()
        self._ready = select.poll()
        self._ready.register(fd, select.POLLIN)

    @classmethod
    def open(cls, root: str) -> DirectoryWatch:
        """A watch on `root` alone; `add` the folders below it (before listing them)."""
        if not hasattr(os, "O_NONBLOCK") or not os.uname().sysname == "Linux":
            raise WatchUnavailable("inotify is Linux only")
        libc = _load_libc()
        fd = libc.inotify_init1(os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        if fd < 0:
            raise WatchUnavailable(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
        watch = cls(root, libc, fd)
        try:
            watch.add("")
        except WatchUnavailable:
            watch.close()
            raise
        return watch

    def add(self, folder: str) -> None:
        """Watch `folder` (relative; "" the root). Call it before listing the folder, so a
        change made while it is listed is an event. Raises WatchUnavailable (no watches left)."""
        path = f"{self.root}/{folder}" if folder else self.root
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), _MASK)
        if wd < 0:
            code = ctypes.get_errno()
            if code in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return  # gone (or not a folder) already: its parent's event says so
            raise WatchUnavailable(f"cannot watch {path}: {os.strerror(code)}")
        with self._lock:
            self._folders[wd] = folder

    def rewatch(self, walk: Callable[[Callable[[str], None]], T]) -> T:
        """Watch the tree afresh while `walk(add)` walks it, calling `add` before it lists each
        folder; watches of folders it did not meet (moved away) are removed after."""
        with self._lock:
            old = set(self._folders)
            self._folders.clear()
        result = walk(self.add)
        with self._lock:
            stale = old - self._folders.keys()
        for wd in stale:
            self._libc.inotify_rm_watch(self._fd, wd)
        return result

    def begin(self, token: str) -> Dirty:
        """Open a subscriber `token` (a task run); returns what changed between tasks since
        the last `begin` or `end`, and starts that count again."""
        with self._lock:
            self._drain()
            between = self._subs[_BETWEEN]
            self._subs[_BETWEEN] = Dirty()
            self._subs[token] = Dirty()
            return between

    def end(self, token: str) -> Dirty:
        """Close `token`: what changed while it was open (unknown if it was never opened)."""
        with self._lock:
            self._drain()
            self._subs[_BETWEEN] = Dirty()
            return self._subs.pop(token, None) or Dirty(unknown=True)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _drain(self) -> None:
        # Asked first (one poll per begin/end): a read of the empty queue raises, twice a task.
        while self._ready.poll(0):
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                self._mark_unknown()
                return
            if not data:
                return
            self._dispatch(data)

    def _dispatch(self, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size:offset + _EVENT.size + length]
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:
                self._mark_unknown()
                continue
            folder = self._folders.get(wd)
            if mask & _IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            if folder is None:
                continue
            moved_dir = mask & _IN_ISDIR and mask & (_IN_MOVED_FROM | _IN_MOVED_TO)
            if moved_dir or (folder == "" and mask & (_IN_DELETE_SELF | _IN_MOVE_SELF)):
                self._mark_unknown()
                continue
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF):
                continue  # the parent's own event names it
            name = os.fsdecode(raw.rstrip(b"\0"))
            for dirty in self._subs.values():
                dirty.folders.setdefault(folder, set()).add(name)

    def _mark_unknown(self) -> None:
        for dirty in self._subs.values():
            dirty.unknown = True
