"""The selected flow's tasks with their live state: symbol and colour, duration, attempt.

Updates reconcile nodes by key (see :mod:`tui.models.task_nodes`), so expansion and the cursor survive
live updates and hot reloads; only labels that changed are repainted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.models import formatting
from tui.models.formatting import STATE_STYLES, format_duration, state_text
from tui.models.task_nodes import NodeKey, TaskNode, build_task_nodes, run_duration
from tui.widgets.keys import VIM_CURSOR

if TYPE_CHECKING:
    from tui.engine_port import Execution, Flow, TaskRun

__all__ = ["TaskTree", "TreeItem"]

ROOT_KEY: NodeKey = ("flow", "", ())
MOCKED_STYLE = "bold #af87ff"
"""A mocked task run's mark: a test fixture or a mock stood in for the task."""
UNAVAILABLE_STYLE = "italic #d7af5f"
"""A task of a plugin Roost does not run: it needs a mock."""


@dataclass
class TreeItem:
    """What a tree node stands for."""

    key: NodeKey
    kind: str  # "flow" | "task" | "iter" | "branch"
    task_id: str | None = None
    task_run_id: str | None = None
    line: int | None = None


class TaskTree(Tree[TreeItem]):
    """Flow root, its tasks (nesting, branches, ForEach iterations) and their runs."""

    ALLOW_MAXIMIZE = True
    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "

    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR

    class TaskSelected(Message):
        """The cursor moved to a task (task_run_id None: not run), or to the flow (task_id None)."""

        def __init__(self, tree: TaskTree, item: TreeItem) -> None:
            super().__init__()
            self.tree = tree
            self.item = item

        @property
        def control(self) -> TaskTree:
            return self.tree

    class TaskOpened(Message):
        """Enter or a click on a task that has no children: show its logs."""

        def __init__(self, tree: TaskTree, item: TreeItem) -> None:
            super().__init__()
            self.tree = tree
            self.item = item

        @property
        def control(self) -> TaskTree:
            return self.tree

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("no flow", TreeItem(ROOT_KEY, "flow"), id=id, classes=classes)
        self.guide_depth = 3
        self._key_nodes: dict[NodeKey, TreeNode[TreeItem]] = {ROOT_KEY: self.root}
        self._key_labels: dict[NodeKey, Text] = {}
        self._flow: Flow | None = None
        self._frame = 0
        self._last_item: TreeItem | None = None
        self.breakpoints: frozenset[str] = frozenset()
        """Task ids marked with a red ● (set by the app; call ``show`` again to repaint)."""

    @property
    def selected_item(self) -> TreeItem | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def node_for(self, key: NodeKey) -> TreeNode[TreeItem] | None:
        return self._key_nodes.get(key)

    def node_for_task(self, task_id: str) -> TreeNode[TreeItem] | None:
        """A task's node: outside any loop, else its first iteration's."""
        exact = self._key_nodes.get(("task", task_id, ()))
        if exact is not None:
            return exact
        return next((node for key, node in self._key_nodes.items()
                     if key[0] == "task" and key[1] == task_id), None)

    def reveal(self, node: TreeNode[TreeItem]) -> None:
        """Put the cursor on ``node``, expanding its collapsed parents first."""
        parent, collapsed = node.parent, False
        while parent is not None:
            if not parent.is_expanded:
                parent.expand()
                collapsed = True
            parent = parent.parent
        if collapsed:  # the expanded lines are laid out on the next refresh
            self.call_after_refresh(self.move_cursor, node)
        else:
            self.move_cursor(node)

    def show(self, flow: Flow | None, runs: list[TaskRun] | None = None,
             execution: Execution | None = None, *, frame: int = 0, stale: bool = False) -> None:
        """Show ``flow`` merged with ``runs``; call again on every change (cheap when nothing did)."""
        self._frame = frame
        runs = runs or []
        if flow is None:
            self._flow = None
            self._key_labels.pop(ROOT_KEY, None)
            self._reconcile(self.root, [])
            self.root.set_label(Text("no valid flow to show", style="dim italic"))
            return
        first = self._flow is None
        self._flow = flow
        specs = build_task_nodes(flow, runs)
        root_label = self._root_label(flow, execution, stale)
        if self._key_labels.get(ROOT_KEY) != root_label:
            self._key_labels[ROOT_KEY] = root_label
            self.root.set_label(root_label)
        self._reconcile(self.root, specs)
        if first:
            self.root.expand_all()
            if self.cursor_line < 0:
                self.move_cursor(self.root)

    # -- reconciliation ------------------------------------------------------------------------

    def _reconcile(self, parent: TreeNode[TreeItem], specs: list[TaskNode]) -> None:
        existing = list(parent.children)
        wanted_keys = [spec.key for spec in specs]
        same_shape = [child.data.key if child.data else None for child in existing] == wanted_keys
        if not same_shape:
            by_key = {child.data.key: child for child in existing if child.data is not None}
            # Remove nodes no longer wanted; rebuild order by re-adding when it changed.
            keep_prefix = 0
            for child, key in zip(existing, wanted_keys, strict=False):
                if child.data is not None and child.data.key == key:
                    keep_prefix += 1
                else:
                    break
            for child in existing[keep_prefix:]:
                self._forget(child)
                child.remove()
            for spec in specs[keep_prefix:]:
                expanded = by_key.get(spec.key)
                self._add(parent, spec, expand=True if expanded is None else expanded.is_expanded)
            # The kept prefix still needs its labels and children reconciled.
            for child, spec in zip(list(parent.children)[:keep_prefix], specs[:keep_prefix],
                                   strict=False):
                self._update(child, spec)
            return
        for child, spec in zip(existing, specs, strict=True):
            self._update(child, spec)

    def _add(self, parent: TreeNode[TreeItem], spec: TaskNode, *, expand: bool) -> None:
        label = self._label(spec)
        item = TreeItem(spec.key, spec.kind, spec.task_id,
                        spec.task_run.id if spec.task_run else None, spec.line)
        if spec.children:
            node = parent.add(label, item, expand=expand)
            for child in spec.children:
                self._add(node, child, expand=True)
        else:
            node = parent.add_leaf(label, item)
        self._key_nodes[spec.key] = node
        self._key_labels[spec.key] = label

    def _update(self, node: TreeNode[TreeItem], spec: TaskNode) -> None:
        label = self._label(spec)
        item = node.data
        run_id = spec.task_run.id if spec.task_run else None
        if item is not None and (item.task_run_id != run_id or item.line != spec.line):
            item.task_run_id = run_id
            item.line = spec.line
            if node is self.cursor_node:
                self.post_message(self.TaskSelected(self, item))
        if self._key_labels.get(spec.key) != label:
            self._key_labels[spec.key] = label
            node.set_label(label)
        if spec.children and not node.allow_expand:
            node.allow_expand = True
        self._reconcile(node, spec.children)

    def _forget(self, node: TreeNode[TreeItem]) -> None:
        if node.data is not None:
            self._key_nodes.pop(node.data.key, None)
            self._key_labels.pop(node.data.key, None)
        for child in node.children:
            self._forget(child)

    # -- labels ----------------------------------------------------------------------------------

    def _root_label(self, flow: Flow, execution: Execution | None, stale: bool) -> Text:
        text = Text()
        if execution is not None:
            text.append_text(state_text(execution.state.value, frame=self._frame))
            text.append(" ")
        text.append(flow.id, style="bold")
        if execution is not None:
            start, end = execution.start_date, execution.end_date
            if start is not None:
                seconds = max(0.0, ((end or formatting.now()) - start).total_seconds())
                text.append(f"  {format_duration(seconds)}", style="dim")
        if stale:
            text.append("  (last good version)", style=STATE_STYLES["WARNING"])
        return text

    def _label(self, spec: TaskNode) -> Text:
        if spec.kind == "branch":
            return Text(spec.label, style="italic #8787af")
        if spec.kind == "iter":
            run_states = [c.task_run.state.value for c in spec.children if c.task_run]
            text = Text()
            if run_states:
                text.append_text(state_text(_iteration_state(run_states), frame=self._frame))
                text.append(" ")
            text.append(spec.label, style="bold #87afd7")
            return text
        run = spec.task_run
        text = Text()
        if spec.task_id in self.breakpoints:
            text.append("● ", style="bold #ff5f5f")
        if run is not None:
            text.append_text(state_text(run.state.value, frame=self._frame))
        else:
            text.append("·", style="dim")
        text.append(" ")
        mocked = run is not None and run.mocked
        if mocked:
            # ◇ before the id (seen in a narrow sidebar too): a test's fixture gave this run its
            # state and outputs; the task never ran, so it has no duration to show.
            text.append("◇ ", style=MOCKED_STYLE)
        if spec.unavailable and not mocked:  # ⊘: a plugin Roost cannot run (it needs a mock)
            text.append("⊘ ", style=UNAVAILABLE_STYLE)
        text.append(spec.label, style="strike dim" if spec.disabled else
                    MOCKED_STYLE if mocked else "")
        if spec.task_type:
            text.append(f" {spec.task_type}", style="dim")
        if spec.unavailable and not mocked:
            text.append("  not available locally", style=UNAVAILABLE_STYLE)
        if run is not None:
            seconds = run_duration(run)
            if mocked:
                text.append("  mocked", style=MOCKED_STYLE)
            elif seconds is not None and run.state.value not in ("CREATED", "SKIPPED"):
                text.append(f"  {format_duration(seconds)}", style="#8a8a8a")
                if run.paused_seconds:
                    text.append(f" (paused {format_duration(run.paused_seconds)})", style="dim")
            if run.attempts > 1:
                text.append(f"  attempt {run.attempts}", style=STATE_STYLES["WARNING"])
            if run.runner and run.runner.startswith("docker "):
                # ⧉: ran in a container; the image is what tells two runs apart.
                text.append(f"  ⧉ {run.runner.removeprefix('docker ')}", style="#5f87af")
        if spec.disabled:
            text.append("  disabled", style="dim italic")
        return text

    # -- events ----------------------------------------------------------------------------------

    def _on_tree_node_highlighted(self, event: Tree.NodeHighlighted[TreeItem]) -> None:
        event.stop()
        item = event.node.data
        if item is not None:
            self.post_message(self.TaskSelected(self, item))

    def _on_tree_node_selected(self, event: Tree.NodeSelected[TreeItem]) -> None:
        event.stop()
        item = event.node.data
        if item is not None and not event.node.children:
            self.post_message(self.TaskOpened(self, item))


def _iteration_state(states: list[str]) -> str:
    for state in ("FAILED", "KILLED", "RUNNING", "PAUSED", "WARNING", "CREATED"):
        if state in states:
            return state
    return "SUCCESS"
