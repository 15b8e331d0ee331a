"""Per task in a shared working directory: what it changed, and the directory as it found it.

Before a task runs, the directory's manifest is taken (or the previous task's "after"
reused when nothing touched the directory in between) and a snapshot is kept for replay;
after it runs, a second manifest gives its changes. An inotify watch on the tree
(`engine.workdir.watch`), open for the whole execution, says which folders changed, so
"after" lists only those (`engine.workdir.rescan`) and nothing at all when none did; a
change made between two tasks (a process that outlived its task) is seen by the next
"before". Without inotify, or when the watch lost track, the whole tree is walked, reusing
the previous manifest's hashes for files whose size, mtime and inode did not move.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.events import Event, TaskFilesChanged

if TYPE_CHECKING:  # imported when a task first runs in a shared directory
    from engine.workdir.manifest import ChangeSet, Manifest
    from engine.workdir.watch import DirectoryWatch, Dirty

LogFunction = Callable[[str | None, str | None, str, str], None]
"""(task run id, task id, level, message): the execution's log."""


@dataclass
class _Before:
    manifest: Manifest
    snapshot: bool
    note: str | None


def after_name(task_run_id: str) -> str:
    """The snapshot of the directory as a task left it (its "before" is named by its run id)."""
    return f"{task_run_id}.after"


class WorkdirTracker:
    """One per execution; safe to call from parallel branches."""

    def __init__(self, snapshots_root: Path, execution_id: str, cap_bytes: int,
                 publish: Callable[[Event], None], log: LogFunction, watch: bool = True) -> None:
        from engine.workdir.manifest import compare
        from engine.workdir.snapshots import ExecutionSnapshots

        self._compare = compare  # imported here, not in `after`: an import statement costs per task
        self.snapshots = ExecutionSnapshots(snapshots_root, execution_id, cap_bytes)
        self._execution_id = execution_id
        self._publish = publish
        self._log = log
        self._last: dict[str, tuple[Manifest | None, str | None]] = {}  # directory → (manifest, its snapshot)
        self._touched: set[str] = set()          # directories someone may have changed since
        self._pending: dict[str, _Before] = {}   # task run id → before state
        self._lock = threading.Lock()
        self._cap_noted = False
        self._watch_wanted = watch
        self._watches: dict[str, DirectoryWatch | None] = {}  # directory → its watch (None: walk)

    def mark_touched(self, directory: Path) -> None:
        """The directory may have changed outside a task (a pause: the user had a shell there)."""
        with self._lock:
            self._touched.add(str(directory))

    def before(self, task_run_id: str, task_id: str, directory: Path) -> None:
        """Take the directory as the task finds it: the previous task's "after" when nothing
        changed it since (no second walk, and the snapshot is an alias), else a new one."""
        key = str(directory)
        watch = self._watch(key)
        with self._lock:
            manifest, _snapshot = self._last.get(key, (None, None))
            touched = key in self._touched
            self._touched.discard(key)
        between = watch.begin(task_run_id) if watch is not None else None
        if manifest is None or touched:
            manifest = self._walk(key, manifest)
        elif between is not None and not between.empty:
            manifest = self._update(key, manifest, between)
        # Without a watch the previous "after" is trusted, as nothing ran in between.
        with self._lock:
            self._last[key] = (manifest, task_run_id)
        stored, note = self._record(task_run_id, task_id, task_run_id, directory, manifest)
        with self._lock:
            self._pending[task_run_id] = _Before(manifest, stored, note)

    def after(self, task_run_id: str, task_id: str, directory: Path) -> ChangeSet | None:
        """Publish the task's changes; returns the ChangeSet (None if `before` never ran)."""
        with self._lock:
            before = self._pending.pop(task_run_id, None)
        if before is None:
            return None
        key = str(directory)
        watch = self._watches.get(key)
        # Read after the task's processes were reaped and its orphans killed: every change
        # they made is queued by now; later ones go to the next task's "before".
        dirty = watch.end(task_run_id) if watch is not None else None
        if dirty is None:
            manifest = self._walk(key, before.manifest)
        elif dirty.empty:
            manifest = before.manifest
        else:
            manifest = self._update(key, before.manifest, dirty)
        changes = self._compare(before.manifest, manifest)
        name = after_name(task_run_id)
        stored, _note = self._record(task_run_id, task_id, name, directory, manifest)
        with self._lock:
            self._last[str(directory)] = (manifest, name if stored else None)
        self._publish(TaskFilesChanged(self._execution_id, task_run_id, task_id, changes,
                                       before.snapshot, before.note))
        return changes

    def close(self) -> None:
        """End of the execution: the watches and the snapshot journal are closed."""
        with self._lock:
            watches = [w for w in self._watches.values() if w is not None]
            self._watches = {key: None for key in self._watches}
        for watch in watches:
            watch.close()
        self.snapshots.close()

    def _watch(self, key: str) -> DirectoryWatch | None:
        """The directory's watch, opened with its first task (None: walk every time)."""
        with self._lock:
            if key in self._watches or not self._watch_wanted:
                return self._watches.get(key)
            self._watches[key] = None
        from engine.workdir.watch import DirectoryWatch, WatchUnavailable

        try:
            watch = DirectoryWatch.open(key)
        except WatchUnavailable:
            return None
        with self._lock:
            self._watches[key] = watch
            self._touched.add(key)  # what it holds now is only known by a walk, after the watch
        return watch

    def _walk(self, key: str, previous: Manifest | None) -> Manifest:
        """The whole tree; its folders watched (again) first, so nothing is missed after."""
        from engine.workdir.manifest import scan
        from engine.workdir.rescan import walk_watching
        from engine.workdir.watch import WatchUnavailable

        watch = self._watches.get(key)
        if watch is not None:
            try:
                return watch.rewatch(lambda add: walk_watching(key, previous, add))
            except WatchUnavailable:  # out of watches: from now on, plain walks
                self._drop_watch(key)
        return scan(key, previous)

    def _update(self, key: str, previous: Manifest, dirty: Dirty) -> Manifest:
        """`previous` with what the watch saw change; the whole tree if it lost track."""
        from engine.workdir.rescan import rescan
        from engine.workdir.watch import WatchUnavailable

        watch = self._watches.get(key)
        if dirty.unknown or watch is None:
            return self._walk(key, previous)
        try:
            return rescan(key, previous, dirty.folders, watch.add)
        except WatchUnavailable:  # out of watches: from now on, walks
            self._drop_watch(key)
            return self._walk(key, previous)

    def _drop_watch(self, key: str) -> None:
        with self._lock:
            watch = self._watches.get(key)
            self._watches[key] = None
        if watch is not None:
            watch.close()

    def _record(self, task_run_id: str, task_id: str, name: str, directory: Path,
                manifest: Manifest) -> tuple[bool, str | None]:
        try:
            result = self.snapshots.record(name, directory, manifest)
        except OSError as exc:  # a full disk must not fail the task: replay just cannot restore
            return False, f"the snapshot could not be written: {exc.strerror or exc}"
        if not result.stored and not self._cap_noted and self.snapshots.cap_bytes > 0:
            self._cap_noted = True
            self._log(task_run_id, task_id, "WARN",
                      f"working directory snapshots stop here: {result.reason}; "
                      "replay from this task on will offer a full rerun instead")
        return result.stored, result.reason
