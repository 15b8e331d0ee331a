"""What a task changed in its working directory, as data the Changes pane lists and previews.

The engine records each task's :class:`~engine.workdir.manifest.ChangeSet` and keeps snapshots
of the directory as the task found it (snapshot ``<task run id>``) and as it left it
(``<task run id>.after``). A preview reads the file's bytes from those snapshots: an added
file's content, a deleted file's old content, a modified text file's unified diff. No widgets
here; reading a snapshot blocks, so callers run ``change_preview`` in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.workdir.file_diff import is_probably_text, text_diff
from engine.workdir.manifest import ChangeKind, format_bytes
from engine.workdir.tracking import after_name
from tui.models.previews import HEAD_BYTES, MessagePreview, Preview, TextPreview, lexer_for

if TYPE_CHECKING:
    from engine.core.events import TaskFilesChanged
    from engine.workdir.snapshots import ExecutionSnapshots
    from engine.workdir.manifest import FileChange

__all__ = ["MAX_PREVIEW_BYTES", "ChangedFile", "change_preview", "change_sizes", "files_of"]

MAX_PREVIEW_BYTES = 4 * 1024 * 1024
"""Files bigger than this (on either side) are described, not read: a snapshot read is whole."""


@dataclass(frozen=True)
class ChangedFile:
    """One file a task run added, modified or deleted, with what is known of its snapshots."""

    execution_id: str
    task_run_id: str
    task_id: str
    change: FileChange
    snapshot: bool
    """Whether the directory as the task found it was kept."""
    note: str | None = None
    """Why it was not."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.task_run_id, self.change.path)


def files_of(record: TaskFilesChanged) -> list[ChangedFile]:
    """Every change of one task run, in path order."""
    return [ChangedFile(record.execution_id, record.task_run_id, record.task_id, change,
                        record.snapshot, record.note)
            for change in record.changes.changes]


def change_sizes(change: FileChange) -> str:
    """``1.2 KiB`` (added), ``88 B`` (deleted), ``300 B → 412 B`` (modified)."""
    if change.kind == ChangeKind.ADDED:
        return format_bytes(change.size_after or 0)
    if change.kind == ChangeKind.DELETED:
        return format_bytes(change.size_before or 0)
    return f"{format_bytes(change.size_before or 0)} → {format_bytes(change.size_after or 0)}"


class _Unreadable(Exception):
    """A side of the change cannot be shown; the message says why."""


def change_preview(snapshots_root: Path, item: ChangedFile) -> Preview:
    """The content (added), the old content (deleted) or a unified diff (modified, text) of
    one changed file; a message when it is binary, too big or a snapshot is missing."""
    from engine.workdir.snapshots import ExecutionSnapshots, SnapshotError

    change = item.change
    snapshots = ExecutionSnapshots.open_existing(snapshots_root, item.execution_id)
    try:
        old = (_read(snapshots, item, item.task_run_id, "before", change.size_before)
               if change.kind != ChangeKind.ADDED else None)
        new = (_read(snapshots, item, after_name(item.task_run_id), "after", change.size_after)
               if change.kind != ChangeKind.DELETED else None)
    except _Unreadable as exc:
        return MessagePreview(str(exc), "warning")
    except (SnapshotError, OSError) as exc:
        return MessagePreview(f"cannot read {change.path} from the snapshot: {exc}", "error")
    if change.kind == ChangeKind.MODIFIED:
        return _diff_preview(change, old, new)
    data = new if change.kind == ChangeKind.ADDED else old
    assert data is not None
    return _content_preview(change, data)


def _read(snapshots: ExecutionSnapshots, item: ChangedFile, name: str, side: str,
          size: int | None) -> bytes:
    path = item.change.path
    if not snapshots.has(name):
        recorded = item.note if side == "before" and not item.snapshot else None
        reason = recorded or snapshots.missing_reason(name) or "no snapshot was recorded"
        raise _Unreadable(f"no snapshot of the directory {side} {item.task_id}, so {path} "
                          f"cannot be shown: {reason}")
    if size is not None and size > MAX_PREVIEW_BYTES:
        raise _Unreadable(f"{path}: {change_sizes(item.change)}, too big to show here "
                          f"(over {format_bytes(MAX_PREVIEW_BYTES)})")
    data = snapshots.read(name, path)
    if data is None:
        manifest = snapshots.manifest(name)
        entry = manifest.entries.get(path) if manifest is not None else None
        if entry is not None and entry.link is not None:
            raise _Unreadable(f"{path} is a symlink → {entry.link} ({side} {item.task_id})")
        raise _Unreadable(f"{path} is not in the snapshot {side} {item.task_id}")
    return data


def _content_preview(change: FileChange, data: bytes) -> Preview:
    if not is_probably_text(data):
        return MessagePreview(f"binary: {format_bytes(len(data))}")
    head = data[:HEAD_BYTES]
    text = head.decode("utf-8", errors="replace")
    return TextPreview(text, lexer_for(Path(change.path).name, text), len(data) > len(head),
                       len(data))


def _diff_preview(change: FileChange, old: bytes | None, new: bytes | None) -> Preview:
    lines = text_diff(old, new, change.path)
    if lines is None:
        return MessagePreview(f"binary: {change_sizes(change)}")
    if not lines:
        return MessagePreview(f"{change.path}: same content; its permission bits or type changed")
    return TextPreview("\n".join(lines), "diff", False, len(new or b""))
