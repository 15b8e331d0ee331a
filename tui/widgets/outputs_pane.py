"""Outputs: the flow's outputs and, per task run, vars, exitCode, metrics and captured files.

Any ``kestra:///`` value (``outputFiles``, ``uri``...) is an artifact: highlighting it previews
it beside the tree; ``enter`` opens the preview full screen, ``e`` saves it, ``o``/``O`` open it
in ``$PAGER``/``$EDITOR``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.highlighter import ReprHighlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.models.artifacts import Artifact
from tui.models.formatting import format_size, state_text
from tui.models.previews import build_preview
from tui.widgets.keys import VIM_CURSOR
from tui.widgets.preview_view import PreviewView, TreeAndPreview

if TYPE_CHECKING:
    from tui.models.run_model import ExecutionModel

__all__ = ["OutputItem", "OutputsPane", "OutputsTree"]

_VALUE_CHILDREN_LIMIT = 200
_highlighter = ReprHighlighter()


@dataclass
class OutputItem:
    key: tuple[str, ...]
    kind: str  # "section" | "task" | "value" | "artifact"
    task_run_id: str | None = None
    task_id: str | None = None
    uri: str | None = None
    name: str | None = None
    copy_text: str | None = None  # a value's text as `c` copies it (JSON for maps and lists)


class OutputsTree(Tree[OutputItem]):
    """The outputs as a tree; artifacts are leaves carrying their URI."""

    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR


class OutputsPane(TreeAndPreview):
    """Tree on the left, preview of the highlighted artifact on the right (below when narrow)."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    OutputsPane { height: 1fr; }
    OutputsPane > OutputsTree { width: 2fr; min-width: 30; }
    OutputsPane > PreviewView { width: 3fr; border-left: vkey $panel; }
    OutputsPane.-narrow { layout: vertical; }
    OutputsPane.-narrow > OutputsTree { width: 1fr; height: 1fr; }
    OutputsPane.-narrow > PreviewView { width: 1fr; height: 1fr; border-left: none;
                                         border-top: hkey $panel; }
    OutputsPane.-no-artifacts > PreviewView { display: none; }
    """

    class ArtifactOpened(Message):
        """Enter on an artifact: show it full screen."""

        def __init__(self, pane: OutputsPane, artifact: Artifact) -> None:
            super().__init__()
            self.pane = pane
            self.artifact = artifact

    def __init__(self, resolve: Callable[[str], Path], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.resolve = resolve
        self._signature: Any = None
        self._model: ExecutionModel | None = None
        self._previewed: str | None = None

    def compose(self) -> ComposeResult:
        tree: OutputsTree = OutputsTree("outputs", OutputItem(("root",), "section"))
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield PreviewView("Highlight an output file to preview it here")

    @property
    def output_tree(self) -> OutputsTree:
        return self.query_one(OutputsTree)

    # -- content -------------------------------------------------------------------------------

    def show(self, model: ExecutionModel | None, *, force: bool = False) -> None:
        """Rebuild when the outputs changed (cursor and expansion are kept by key)."""
        signature = _signature(model)
        if signature == self._signature and model is self._model and not force:
            return
        self._signature = signature
        changed_execution = model is not self._model
        self._model = model
        tree = self.output_tree
        cursor = tree.cursor_node.data.key if tree.cursor_node and tree.cursor_node.data else None
        collapsed = {n.data.key for n in _walk(tree.root) if n.data and n.allow_expand
                     and not n.is_expanded} if not changed_execution else set()
        tree.clear()
        if model is None:
            tree.root.add_leaf(Text("no execution yet: press r to run the flow", style="dim italic"))
            self.add_class("-no-artifacts")
            self.preview.show(None)
            self._previewed = None
            return
        nodes: dict[tuple[str, ...], TreeNode[OutputItem]] = {}
        self._fill(tree.root, model, nodes)
        self.set_class(not any(n.data and n.data.kind == "artifact" for n in nodes.values()),
                       "-no-artifacts")
        for key, node in nodes.items():
            if key in collapsed:
                node.collapse()
        if cursor in nodes:
            self.call_after_refresh(tree.move_cursor, nodes[cursor])
        if changed_execution:
            self.preview.show(None)
            self._previewed = None

    def select_artifact(self, task_run_id: str, name: str) -> bool:
        """Move the cursor to a task run's output file by name (the Files pane links there);
        False when the tree has no such file."""
        tree = self.output_tree
        for node in _walk(tree.root):
            item = node.data
            if (item is not None and item.kind == "artifact" and item.task_run_id == task_run_id
                    and item.name == name):
                tree.move_cursor(node)
                return True
        return False

    def select_task_run(self, task_run_id: str | None) -> None:
        """Move the cursor to a task run's node (when the task tree selection changes)."""
        tree = self.output_tree
        for node in _walk(tree.root):
            if node.data and node.data.kind == "task" and node.data.task_run_id == task_run_id:
                tree.move_cursor(node)
                return

    def _fill(self, root: TreeNode[OutputItem], model: ExecutionModel,
              nodes: dict[tuple[str, ...], TreeNode[OutputItem]]) -> None:
        execution = model.execution
        flow_node = root.add(Text.assemble(state_text(execution.state.value), " ",
                                           ("flow outputs", "bold")),
                             OutputItem(("flow",), "section"), expand=True)
        nodes[("flow",)] = flow_node
        if execution.outputs:
            for name, value in execution.outputs.items():
                self._value(flow_node, str(name), value, ("flow", str(name)), None, None, nodes)
        else:
            flow_node.add_leaf(Text("none" if execution.state.is_terminal else "after the run",
                                    style="dim italic"))
        for run in model.runs_in_order():
            outputs = run.outputs if isinstance(run.outputs, dict) else {}
            metrics = model.metrics_of(run.id)
            files = model.files_of(run.id)
            if not outputs and not metrics and not files:
                continue
            label = Text.assemble(state_text(run.state.value), " ", (run.task_id, "bold"))
            if run.value is not None:
                label.append(f" [{run.value}]", style="#87afd7")
            if run.runner:
                label.append(f"  ran on {run.runner}", style="dim")
            key = ("task", run.id)
            node = root.add(label, OutputItem(key, "task", run.id, run.task_id), expand=True)
            nodes[key] = node
            for name, value in outputs.items():
                if name == "outputFiles" and isinstance(value, dict) and files:
                    continue
                self._value(node, str(name), value, (*key, str(name)), run.id, run.task_id, nodes)
            if files:
                files_node = node.add(Text("outputFiles", style="#d7af87"),
                                      OutputItem((*key, "files"), "section"), expand=True)
                nodes[(*key, "files")] = files_node
                for captured in files:
                    item = OutputItem((*key, "files", captured.name), "artifact", run.id,
                                      run.task_id, captured.uri, captured.name)
                    files_node.add_leaf(_artifact_label(captured.name, captured.size), item)
                    nodes[item.key] = files_node.children[-1]
            if metrics:
                metrics_node = node.add(Text("metrics", style="#d7af87"),
                                        OutputItem((*key, "metrics"), "section"), expand=True)
                nodes[(*key, "metrics")] = metrics_node
                for metric in metrics:
                    tags = (" " + json.dumps(metric.tags, separators=(",", ":"))) if metric.tags else ""
                    value = f"{metric.value:g}"
                    metrics_node.add_leaf(Text.assemble((metric.name, "bold"), f" {metric.type} ",
                                                        (value, "#5fd7ff"), (tags, "dim")))

    def _value(self, parent: TreeNode[OutputItem], name: str, value: Any, key: tuple[str, ...],
               run_id: str | None, task_id: str | None,
               nodes: dict[tuple[str, ...], TreeNode[OutputItem]]) -> None:
        if isinstance(value, str) and value.startswith("kestra://"):
            artifact_name = value.rsplit("/", 1)[-1] or name
            item = OutputItem(key, "artifact", run_id, task_id, value, _unquote(artifact_name))
            parent.add_leaf(Text.assemble((name, "bold"), " = ", (value, "#87d787 underline")), item)
            nodes[key] = parent.children[-1]
            return
        if isinstance(value, dict) and value:
            node = parent.add(Text.assemble((name, "bold"), (f" {{{len(value)}}}", "dim")),
                              OutputItem(key, "value", copy_text=_as_copied(value)),
                              expand=len(value) <= 20)
            nodes[key] = node
            for index, (child_name, child) in enumerate(value.items()):
                if index >= _VALUE_CHILDREN_LIMIT:
                    node.add_leaf(Text(f"… {len(value) - index} more", style="dim"))
                    break
                self._value(node, str(child_name), child, (*key, str(child_name)), run_id,
                            task_id, nodes)
            return
        if isinstance(value, list) and value:
            node = parent.add(Text.assemble((name, "bold"), (f" [{len(value)}]", "dim")),
                              OutputItem(key, "value", copy_text=_as_copied(value)),
                              expand=len(value) <= 20)
            nodes[key] = node
            for index, child in enumerate(value):
                if index >= _VALUE_CHILDREN_LIMIT:
                    node.add_leaf(Text(f"… {len(value) - index} more", style="dim"))
                    break
                self._value(node, str(index), child, (*key, str(index)), run_id, task_id, nodes)
            return
        text = Text.assemble((name, "bold"), " = ")
        shown = json.dumps(value, default=str, ensure_ascii=False)
        if len(shown) > 500:
            shown = shown[:500] + "…"
        text.append_text(_highlighter(shown))
        parent.add_leaf(text, OutputItem(key, "value", copy_text=_as_copied(value)))
        nodes[key] = parent.children[-1]

    # -- artifacts -------------------------------------------------------------------------------

    @property
    def selected_value_text(self) -> str | None:
        """The selected output value as text (`c` copies it), None when no value is selected."""
        node = self.output_tree.cursor_node
        item = node.data if node is not None else None
        return item.copy_text if item is not None and item.kind == "value" else None

    @property
    def selected_artifact(self) -> Artifact | None:
        node = self.output_tree.cursor_node
        item = node.data if node is not None else None
        if item is None or item.kind != "artifact" or item.uri is None:
            return None
        try:
            path = self.resolve(item.uri)
        except Exception:
            return None
        return Artifact(item.name or path.name, path, item.uri, item.task_id)

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[OutputItem]) -> None:
        event.stop()
        item = event.node.data
        if item is not None and item.kind == "artifact" and item.uri and item.uri != self._previewed:
            self._previewed = item.uri
            self._load_preview(item.uri, item.name or "")

    def _on_tree_node_selected(self, event: Tree.NodeSelected[OutputItem]) -> None:
        item = event.node.data
        if item is not None and item.kind == "artifact":
            event.stop()
            artifact = self.selected_artifact
            if artifact is not None:
                self.post_message(self.ArtifactOpened(self, artifact))

    @work(thread=True, exclusive=True, group="outputs-preview")
    def _load_preview(self, uri: str, name: str) -> None:
        try:
            path = self.resolve(uri)
            preview = build_preview(path, name)
        except Exception as exc:
            from tui.models.previews import MessagePreview

            preview = MessagePreview(f"cannot open {uri}: {exc}", "error")
        self.app.call_from_thread(self.preview.show, preview, name)


def _as_copied(value: Any) -> str:
    """Text as-is, everything else as JSON (what a user pastes into a shell or an editor)."""
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _artifact_label(name: str, size: int | None) -> Text:
    text = Text.assemble(("▣ ", "#87d787"), (name, "#87d787 underline"))
    if size is not None:
        text.append(f"  {format_size(size)}", style="dim")
    return text


def _unquote(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)


def _walk(node: TreeNode[OutputItem]) -> list[TreeNode[OutputItem]]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found


def _signature(model: ExecutionModel | None) -> Any:
    if model is None:
        return None
    return (
        model.id,
        model.execution.state.value,
        id(model.execution.outputs),
        tuple((r.id, r.state.value, id(r.outputs), r.runner) for r in model.task_runs.values()),
        len(model.metrics),
        len(model.captured),
    )
