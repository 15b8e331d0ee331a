"""What a task changed in its working directory, as data the Changes pane lists and previews.

The engine records each task's :class:`~engine.workdir.manifest.ChangeSet` and keeps snapshots
of the directory as the task found it and as it left it; the engine's ``read_change`` reads
both sides of one change from them (the UI never opens snapshot files itself). A preview
shows an added file's content, a deleted file's old content, a modified text file's unified
diff. No widgets here; reading a snapshot blocks, so callers run ``change_preview`` in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine_port import ChangeKind, format_bytes, is_probably_text, sizes_text, text_diff
from tui.models.previews import HEAD_BYTES, MessagePreview, Preview, TextPreview, lexer_for

if TYPE_CHECKING:
    from tui.engine_port import FileChange, TaskFilesChanged

__all__ = ["ChangedFile", "change_preview", "files_of"]


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


def change_preview(snapshots_root: Path, item: ChangedFile) -> Preview:
    """The content (added), the old content (deleted) or a unified diff (modified, text) of
    one changed file; a message when it is binary, too big or a snapshot is missing."""
    from tui.engine_port import ChangeUnreadable, read_change

    change = item.change
    try:
        contents = read_change(snapshots_root, item.execution_id, item.task_run_id, item.task_id,
                               change, snapshot_kept=item.snapshot, note=item.note)
    except ChangeUnreadable as exc:
        return MessagePreview(str(exc), "error" if exc.severity == "error" else "warning")
    if change.kind == ChangeKind.MODIFIED:
        return _diff_preview(change, contents.old, contents.new)
    data = contents.new if change.kind == ChangeKind.ADDED else contents.old
    assert data is not None
    return _content_preview(change, data)


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
        return MessagePreview(f"binary: {sizes_text(change)}")
    if not lines:
        return MessagePreview(f"{change.path}: same content; its permission bits or type changed")
    return TextPreview("\n".join(lines), "diff", False, len(new or b""))
