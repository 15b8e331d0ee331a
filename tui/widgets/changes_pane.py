"""Changes: the files the selected task added, modified and deleted in its working directory.

One task lists its changes with sizes (``+ out/data.csv  1.2 KiB``, ``~ config.json  300 B →
412 B``, ``- tmp.txt  88 B``) under its summary; a WorkingDirectory (or the whole execution)
groups them per child task. Highlighting a file previews it from the snapshots: the content of
an added file, the old content of a deleted one, the diff of a modified one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static, Tree

from tui.engine_port import ChangeKind, sizes_text
from tui.models.change_previews import ChangedFile, change_preview, files_of
from tui.models.previews import Preview
from tui.widgets.keys import VIM_CURSOR
from tui.widgets.preview_view import PreviewView, TreeAndPreview

if TYPE_CHECKING:
    from tui.engine_port import TaskFilesChanged

__all__ = ["KIND_MARKS", "ChangesPane", "ChangesTree", "change_label"]

KIND_MARKS: dict[str, tuple[str, str]] = {
    ChangeKind.ADDED: ("+", "#5fd75f"),
    ChangeKind.MODIFIED: ("~", "#ffaf00"),
    ChangeKind.DELETED: ("-", "#ff5f5f"),
}
"""Mark and colour per kind (the mark says it without colour too)."""


def change_label(item: ChangedFile) -> Text:
    """``+ out/data.csv  1.2 KiB`` in the kind's colour."""
    mark, colour = KIND_MARKS[item.change.kind]
    text = Text(f"{mark} ", style=f"bold {colour}")
    text.append(item.change.path, style=colour)
    text.append(f"  {sizes_text(item.change)}", style="dim")
    return text


class ChangesTree(Tree[ChangedFile | None]):
    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR


class ChangesPane(TreeAndPreview):
    """The changed files of one task run (or grouped per task), beside a preview."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    ChangesPane { height: 1fr; }
    ChangesPane > ChangesTree { width: 1fr; min-width: 30; scrollbar-size-vertical: 1; }
    ChangesPane > PreviewView { width: 1fr; border-left: vkey $panel; }
    ChangesPane.-narrow { layout: vertical; }
    ChangesPane.-narrow > ChangesTree { width: 1fr; height: 1fr; }
    ChangesPane.-narrow > PreviewView { width: 1fr; height: 1fr; border-left: none;
                                         border-top: hkey $panel; }
    ChangesPane > .changes--empty { display: none; width: 1fr; padding: 1 2; color: $text-muted; }
    ChangesPane.-empty > .changes--empty { display: block; }
    ChangesPane.-empty > ChangesTree, ChangesPane.-empty > PreviewView { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.records: tuple[TaskFilesChanged, ...] = ()
        self.message = ""
        self._signature: object = None
        self._snapshots_root: Path | None = None
        self._previewed: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        tree: ChangesTree = ChangesTree("changes", None)
        tree.guide_depth = 2
        yield tree
        yield PreviewView("Highlight a file to see what the task did to it")
        yield Static("", classes="changes--empty")

    @property
    def change_tree(self) -> ChangesTree:
        return self.query_one(ChangesTree)

    @property
    def shown_files(self) -> list[ChangedFile]:
        """Every file listed, in order (what a user reads, for tests)."""
        return [item for record in self.records for item in files_of(record)]

    def show_message(self, message: str) -> None:
        """Nothing to list: say why."""
        signature = ("message", message)
        if signature == self._signature:
            return
        self._signature = signature
        self.records = ()
        self.message = message
        self._previewed = None
        self.change_tree.clear()
        if self.preview.preview is not None:
            self.preview.show(None)
        self.query_one(".changes--empty", Static).update(Text(message, style="italic"))
        self.add_class("-empty")

    def show(self, records: Sequence[TaskFilesChanged], title: str, snapshots_root: Path, *,
             grouped: bool, names: Mapping[str, str] | None = None) -> None:
        """List ``records`` (one task run's, or several ``grouped`` per task, each named by
        ``names[task_run_id]``, else its task id) under ``title``; cheap when nothing changed
        since the last call."""
        names = names or {}
        signature = (tuple(id(r) for r in records), title, snapshots_root, grouped)
        if signature == self._signature:
            return
        self._signature = signature
        self.records = tuple(records)
        self.message = ""
        self._snapshots_root = snapshots_root
        self.remove_class("-empty")
        tree = self.change_tree
        cursor = tree.cursor_node.data.key if tree.cursor_node and tree.cursor_node.data else None
        tree.clear()
        tree.root.set_label(_root_label(title, records, grouped))
        tree.root.allow_expand = True
        found = False
        for record in records:
            items = files_of(record)
            parent = tree.root
            if grouped:
                label = _group_label(names.get(record.task_run_id, record.task_id), record)
                if not items:
                    tree.root.add_leaf(label, None)
                    continue
                parent = tree.root.add(label, None, expand=True)
            elif not items:
                parent.add_leaf(Text("nothing added, modified or deleted", style="dim italic"),
                                None)
            for item in items:
                node = parent.add_leaf(change_label(item), item)
                if item.key == cursor:
                    found = True
                    self.call_after_refresh(tree.move_cursor, node)
        tree.root.expand()
        if not found and self._previewed is not None:
            self._previewed = None
            self.preview.show(None)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[ChangedFile | None]) -> None:
        event.stop()
        item = event.node.data
        if item is not None and item.key != self._previewed and self._snapshots_root is not None:
            self._previewed = item.key
            self._load_preview(self._snapshots_root, item)

    @work(thread=True, exclusive=True, group="changes-preview")
    def _load_preview(self, root: Path, item: ChangedFile) -> None:
        preview = change_preview(root, item)
        self.app.call_from_thread(self._apply_preview, item, preview)

    def _apply_preview(self, item: ChangedFile, preview: Preview) -> None:
        if self._previewed == item.key:
            self.preview.show(preview, item.change.path)


def _root_label(title: str, records: Sequence[TaskFilesChanged], grouped: bool) -> Text:
    text = Text(title, style="bold")
    if not grouped and records:
        text.append(f"  {records[0].changes.summary()}", style="#ffaf5f")
        if not records[0].snapshot:
            text.append("  (no snapshot)", style="dim")
    elif grouped:
        files = sum(len(r.changes.changes) for r in records)
        tasks = len(records)
        text.append(f"  {files} change{'s' if files != 1 else ''} by {tasks} "
                    f"task{'s' if tasks != 1 else ''}", style="#ffaf5f")
    return text


def _group_label(name: str, record: TaskFilesChanged) -> Text:
    text = Text(name, style="bold")
    text.append(f"  {record.changes.summary()}", style="#ffaf5f")
    if not record.snapshot:
        text.append("  (no snapshot)", style="dim")
    return text
