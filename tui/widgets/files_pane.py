"""Files: the working directory of the selected run, live (watchfiles), with a preview.

The tree shows sizes and modification times; files the selected task changed (modified while it
ran, in its directory) carry a ``●``. Highlighting a file previews it; ``enter`` opens the
preview full screen, ``e`` saves it, ``o``/``O`` open it in ``$PAGER``/``$EDITOR``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.models.artifacts import Artifact
from tui.models.formatting import format_size
from tui.models.previews import build_preview
from tui.models.workdir_notes import MovedOutput, moved_outputs_text
from tui.widgets.keys import VIM_CURSOR
from tui.widgets.preview_view import PreviewView, TreeAndPreview

__all__ = ["ChangeWindow", "FileEntry", "FilesPane", "MovedOutputsNote", "scan_directory"]

SCAN_LIMIT = 5000
"""At most this many entries are listed (a node_modules must not freeze the pane)."""


@dataclass(frozen=True)
class FileEntry:
    path: Path
    relative: str
    is_dir: bool
    size: int
    mtime: float


@dataclass(frozen=True)
class ChangeWindow:
    """Files under ``folder`` modified between ``start`` and ``end`` (epoch seconds) are marked."""

    folder: Path
    start: float
    end: float | None
    task_id: str

    def contains(self, entry: FileEntry) -> bool:
        if entry.is_dir:
            return False
        try:
            entry.path.relative_to(self.folder)
        except ValueError:
            return False
        end = self.end if self.end is not None else float("inf")
        # No slack before the start (the previous task may have written a file a millisecond
        # before this one started); a little after the end, for the kernel's coarse file clock.
        return self.start <= entry.mtime <= end + 0.01


def scan_directory(root: Path, limit: int = SCAN_LIMIT) -> tuple[list[FileEntry], bool]:
    """Entries under ``root``, folders first then names; and whether the limit cut the list."""
    found: list[FileEntry] = []
    truncated = False
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        for name in [*dirs, *sorted(files)]:
            path = base / name
            try:
                stat = path.lstat()
            except OSError:
                continue
            is_dir = name in dirs and not path.is_symlink()
            found.append(FileEntry(path, str(path.relative_to(root)), is_dir, stat.st_size,
                                   stat.st_mtime))
            if len(found) >= limit:
                truncated = True
                return found, truncated
    return found, truncated


@dataclass(frozen=True)
class MovedOutputsNote:
    """The tree's first line when ``outputFiles`` moved files out of the directory: selecting
    it shows the first of them in Outputs."""

    moved: tuple[MovedOutput, ...]


FilesNode = FileEntry | MovedOutputsNote | None


class FilesTree(Tree[FilesNode]):
    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR


class FilesPane(TreeAndPreview):
    """A live tree of one folder, and a preview of the highlighted file."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    FilesPane { height: 1fr; }
    FilesPane > FilesTree { width: 1fr; min-width: 30; }
    FilesPane > PreviewView { width: 1fr; border-left: vkey $panel; }
    FilesPane.-narrow { layout: vertical; }
    FilesPane.-narrow > FilesTree { width: 1fr; height: 1fr; }
    FilesPane.-narrow > PreviewView { width: 1fr; height: 1fr; border-left: none;
                                       border-top: hkey $panel; }
    FilesPane > .files--empty { display: none; width: 1fr; padding: 1 2; color: $text-muted; }
    FilesPane.-empty > .files--empty { display: block; }
    FilesPane.-empty > FilesTree, FilesPane.-empty > PreviewView { display: none; }
    """

    class Changed(Message):
        """The watched folder changed on disk (posted from the watcher thread)."""

    class FileOpened(Message):
        def __init__(self, pane: FilesPane, artifact: Artifact) -> None:
            super().__init__()
            self.pane = pane
            self.artifact = artifact

    class MovedOutputOpened(Message):
        """Enter on the "outputs moved to storage" line: show ``output`` in Outputs."""

        def __init__(self, output: MovedOutput) -> None:
            super().__init__()
            self.output = output

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.root_path: Path | None = None
        self.reason = ""
        self.window: ChangeWindow | None = None
        self.moved: tuple[MovedOutput, ...] = ()
        """Files captured by ``outputFiles``: no longer in the directory (see Outputs)."""
        self._stop: threading.Event | None = None
        self._signature: tuple[object, ...] | None = None
        self._previewed: Path | None = None
        self._rescan_pending = False

    def compose(self) -> ComposeResult:
        tree: FilesTree = FilesTree("working directory", None)
        tree.guide_depth = 2
        yield tree
        yield PreviewView("Highlight a file to preview it here")
        yield Static("", classes="files--empty")

    @property
    def file_tree(self) -> FilesTree:
        return self.query_one(FilesTree)

    def on_unmount(self) -> None:
        self._stop_watching()

    def show(self, root: Path | None, reason: str = "", window: ChangeWindow | None = None,
             moved: tuple[MovedOutput, ...] = ()) -> None:
        """Show ``root`` (None: ``reason`` says why there is nothing); marks per ``window``;
        ``moved``: the files ``outputFiles`` took out of it, named on the first line."""
        if (root == self.root_path and window == self.window and reason == self.reason
                and moved == self.moved):
            if root is not None and self._signature is None:
                self.rescan()
            return
        root_changed = root != self.root_path
        self.root_path = root
        self.reason = reason
        self.window = window
        self.moved = moved
        if root_changed:
            self._stop_watching()
            self._signature = None
            self._previewed = None
            self.preview.hint = (f"{root}\n\nHighlight a file to preview it here"
                                 if root is not None else "Highlight a file to preview it here")
            self.preview.show(None)
            if root is not None and root.is_dir():
                self._start_watching(root)
        self.rescan()

    def rescan(self) -> None:
        """Scan the folder again (in a thread) and update the tree."""
        root = self.root_path
        tree = self.file_tree
        if root is None or not root.is_dir():
            self._signature = None
            tree.clear()
            self.query_one(".files--empty", Static).update(
                Text(self.reason or "no working directory", style="italic"))
            self.add_class("-empty")
            return
        self.remove_class("-empty")
        if self._stop is None:
            self._start_watching(root)
        self._scan(root)

    @work(thread=True, exclusive=True, group="files-scan")
    def _scan(self, root: Path) -> None:
        entries, truncated = scan_directory(root)
        self.app.call_from_thread(self._apply_scan, root, entries, truncated)

    def _apply_scan(self, root: Path, entries: list[FileEntry], truncated: bool) -> None:
        if root != self.root_path:
            return
        window = self.window
        signature = (root, window, self.moved, truncated,
                     tuple((e.relative, e.size, e.mtime) for e in entries))
        if signature == self._signature:
            return
        self._signature = signature
        tree = self.file_tree
        cursor_data = tree.cursor_node.data if tree.cursor_node else None
        cursor = cursor_data.relative if isinstance(cursor_data, FileEntry) else None
        collapsed = {n.data.relative for n in _walk(tree.root)
                     if isinstance(n.data, FileEntry) and n.allow_expand and not n.is_expanded}
        tree.clear()
        marked = sum(1 for e in entries if window is not None and window.contains(e))
        name = root.name if len(root.name) <= 12 else root.name[:8] + "…"
        label = Text(name + "/", style="bold #87afd7")
        if window is not None:
            label.append(f"  ● {marked} changed by {window.task_id}" if marked else
                         f"  nothing changed by {window.task_id}", style="#ffaf5f")
        tree.root.set_label(label)
        tree.root.allow_expand = True
        nodes: dict[str, TreeNode[FilesNode]] = {"": tree.root}
        if self.moved:
            tree.root.add_leaf(Text("⇢ " + moved_outputs_text(self.moved), style="#87d787"),
                               MovedOutputsNote(self.moved))
        for entry in entries:
            parent_key = str(Path(entry.relative).parent)
            parent = nodes.get("" if parent_key == "." else parent_key, tree.root)
            text = _label(entry, window is not None and window.contains(entry))
            if entry.is_dir:
                node = parent.add(text, entry, expand=entry.relative not in collapsed)
                nodes[entry.relative] = node
            else:
                node = parent.add_leaf(text, entry)
            if entry.relative == cursor:
                self.call_after_refresh(tree.move_cursor, node)
        if truncated:
            tree.root.add_leaf(Text(f"… only the first {SCAN_LIMIT} entries are listed",
                                    style="dim italic"))
        tree.root.expand()
        if self._previewed is not None and any(e.path == self._previewed for e in entries):
            self._load_preview(self._previewed)  # the previewed file may have changed

    # -- watching ----------------------------------------------------------------------------------

    def _start_watching(self, root: Path) -> None:
        self._stop = threading.Event()
        self._watch(root, self._stop)

    def _stop_watching(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None

    @work(thread=True, group="files-watch")
    def _watch(self, root: Path, stop: threading.Event) -> None:
        from watchfiles import watch

        try:
            for _changes in watch(root, stop_event=stop, debounce=300, step=50,
                                  rust_timeout=1000, yield_on_timeout=False,
                                  raise_interrupt=False):
                if stop.is_set():
                    return
                self.post_message(self.Changed())
        except (OSError, RuntimeError):
            return  # the folder went away (pruned); the next show() starts again

    def on_files_pane_changed(self, event: Changed) -> None:
        event.stop()
        self.rescan()

    # -- files -------------------------------------------------------------------------------------

    @property
    def selected_artifact(self) -> Artifact | None:
        node = self.file_tree.cursor_node
        entry = node.data if node is not None else None
        if not isinstance(entry, FileEntry) or entry.is_dir:
            return None
        return Artifact(entry.path.name, entry.path)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[FilesNode]) -> None:
        event.stop()
        entry = event.node.data
        if isinstance(entry, FileEntry) and not entry.is_dir and entry.path != self._previewed:
            self._previewed = entry.path
            self._load_preview(entry.path)

    def _on_tree_node_selected(self, event: Tree.NodeSelected[FilesNode]) -> None:
        entry = event.node.data
        if isinstance(entry, MovedOutputsNote):
            event.stop()
            self.post_message(self.MovedOutputOpened(entry.moved[0]))
        elif entry is not None and not entry.is_dir:
            event.stop()
            self.post_message(self.FileOpened(self, Artifact(entry.path.name, entry.path)))

    @work(thread=True, exclusive=True, group="files-preview")
    def _load_preview(self, path: Path) -> None:
        preview = build_preview(path)
        self.app.call_from_thread(self.preview.show, preview, path.name)


def _label(entry: FileEntry, changed: bool) -> Text:
    name = Path(entry.relative).name
    text = Text()
    text.append("● " if changed else "  ", style="bold #ffaf5f")
    if entry.is_dir:
        text.append(name + "/", style="bold #87afd7")
        return text
    text.append(name, style="bold #ffaf5f" if changed else "")
    modified = datetime.fromtimestamp(entry.mtime).strftime("%H:%M:%S")
    text.append(f"  {format_size(entry.size)}  {modified}", style="dim")
    return text


def _walk(node: TreeNode[FilesNode]) -> list[TreeNode[FilesNode]]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found
