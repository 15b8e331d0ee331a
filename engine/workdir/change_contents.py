"""The bytes of one changed file on both sides of a task: what the Changes pane previews.

The engine keeps snapshots of a shared working directory as a task found it (snapshot
``<task run id>``) and as it left it (``<task run id>.after``). This module is the one
reader of those snapshots for a user interface: it returns the old and new contents of one
:class:`~engine.workdir.manifest.FileChange`, or says in a sentence why a side cannot be
shown (no snapshot, too big, a symlink). Reading blocks: callers run it in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.workdir.manifest import ChangeKind, FileChange, format_bytes, sizes_text
from engine.workdir.snapshots import ExecutionSnapshots, SnapshotError
from engine.workdir.tracking import after_name

__all__ = ["MAX_PREVIEW_BYTES", "ChangeContents", "ChangeUnreadable", "read_change", "sizes_text"]

MAX_PREVIEW_BYTES = 4 * 1024 * 1024
"""Files bigger than this (on either side) are described, not read: a snapshot read is whole."""


class ChangeUnreadable(Exception):
    """A side of the change cannot be shown; the message says why. ``severity`` is how a UI
    should show it: "warning" for an expected gap, "error" for a failed read."""

    def __init__(self, message: str, severity: str = "warning") -> None:
        super().__init__(message)
        self.severity = severity


@dataclass(frozen=True)
class ChangeContents:
    """The file before the task (None when it was added) and after it (None when deleted)."""

    old: bytes | None
    new: bytes | None


def read_change(snapshots_root: Path, execution_id: str, task_run_id: str, task_id: str,
                change: FileChange, *, snapshot_kept: bool = True,
                note: str | None = None) -> ChangeContents:
    """Both sides of one change of one task run; raises ChangeUnreadable with the reason.

    ``snapshot_kept`` and ``note`` are what the task's change record said about its "before"
    snapshot (not kept, and why), so the reason shown is the one recorded at run time.
    """
    try:
        snapshots = ExecutionSnapshots.open_existing(snapshots_root, execution_id)
        side = _SideReader(snapshots, task_id, change, snapshot_kept, note)
        old = side.read(task_run_id, "before", change.size_before) if change.kind != ChangeKind.ADDED else None
        new = (side.read(after_name(task_run_id), "after", change.size_after)
               if change.kind != ChangeKind.DELETED else None)
    except (SnapshotError, OSError) as exc:
        raise ChangeUnreadable(f"cannot read {change.path} from the snapshot: {exc}", "error") from None
    return ChangeContents(old, new)


@dataclass(frozen=True)
class _SideReader:
    snapshots: ExecutionSnapshots
    task_id: str
    change: FileChange
    snapshot_kept: bool
    note: str | None

    def read(self, name: str, side: str, size: int | None) -> bytes:
        path = self.change.path
        if not self.snapshots.has(name):
            recorded = self.note if side == "before" and not self.snapshot_kept else None
            reason = recorded or self.snapshots.missing_reason(name) or "no snapshot was recorded"
            raise ChangeUnreadable(f"no snapshot of the directory {side} {self.task_id}, so {path} "
                                   f"cannot be shown: {reason}")
        if size is not None and size > MAX_PREVIEW_BYTES:
            raise ChangeUnreadable(f"{path}: {sizes_text(self.change)}, too big to show here "
                                   f"(over {format_bytes(MAX_PREVIEW_BYTES)})")
        data = self.snapshots.read(name, path)
        if data is None:
            manifest = self.snapshots.manifest(name)
            entry = manifest.entries.get(path) if manifest is not None else None
            if entry is not None and entry.link is not None:
                raise ChangeUnreadable(f"{path} is a symlink → {entry.link} ({side} {self.task_id})")
            raise ChangeUnreadable(f"{path} is not in the snapshot {side} {self.task_id}")
        return data
