"""Per task in a shared working directory: what it changed, and the directory as it found it.

Before a task runs, the directory's manifest is taken (or the previous task's "after"
reused when nothing could have touched the directory in between) and a snapshot is kept
for replay; after it runs, a second manifest gives its changes. Scans reuse the previous
manifest's hashes for files whose size, mtime and inode did not move, so the cost per task
is a walk of the directory plus the files the task touched.
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
                 publish: Callable[[Event], None], log: LogFunction) -> None:
        from engine.workdir.snapshots import ExecutionSnapshots

        self.snapshots = ExecutionSnapshots(snapshots_root, execution_id, cap_bytes)
        self._execution_id = execution_id
        self._publish = publish
        self._log = log
        self._last: dict[str, tuple[Manifest | None, str | None]] = {}  # directory → (manifest, its snapshot)
        self._touched: set[str] = set()          # directories someone may have changed since
        self._pending: dict[str, _Before] = {}   # task run id → before state
        self._lock = threading.Lock()
        self._cap_noted = False

    def mark_touched(self, directory: Path) -> None:
        """The directory may have changed outside a task (a pause: the user had a shell there)."""
        with self._lock:
            self._touched.add(str(directory))

    def before(self, task_run_id: str, task_id: str, directory: Path) -> None:
        """Take the directory as the task finds it: the previous task's "after" when nothing
        could have changed it since (no second walk, no second snapshot), else a new one."""
        from engine.workdir.manifest import scan

        key = str(directory)
        with self._lock:
            manifest, _snapshot = self._last.get(key, (None, None))
            fresh = manifest is None or key in self._touched
            self._touched.discard(key)
        if fresh or manifest is None:
            manifest = scan(directory, manifest)
        # Unchanged since the previous task's "after": the snapshot is a delta of nothing.
        stored, note = self._record(task_run_id, task_id, task_run_id, directory, manifest)
        with self._lock:
            self._pending[task_run_id] = _Before(manifest, stored, note)

    def after(self, task_run_id: str, task_id: str, directory: Path) -> ChangeSet | None:
        """Publish the task's changes; returns the ChangeSet (None if `before` never ran)."""
        from engine.workdir.manifest import compare, scan

        with self._lock:
            before = self._pending.pop(task_run_id, None)
        if before is None:
            return None
        manifest = scan(directory, before.manifest)
        changes = compare(before.manifest, manifest)
        name = after_name(task_run_id)
        stored, _note = self._record(task_run_id, task_id, name, directory, manifest)
        with self._lock:
            self._last[str(directory)] = (manifest, name if stored else None)
        self._publish(TaskFilesChanged(self._execution_id, task_run_id, task_id, changes,
                                       before.snapshot, before.note))
        return changes

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
