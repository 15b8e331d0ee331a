"""Debug: what an execution paused before a task is about to do, and the evaluations made.

While paused: a header (task, type, why it stopped), the task's YAML beside its rendered
properties (property errors in red), and a browsable tree of the variables in scope. When
not paused: how to debug (keys) and the evaluation history, which stays visible either way.
Everything shown comes already masked from the engine (:class:`~engine.core.debug.PauseInspection`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from tui.widgets.keys import VIM_CURSOR
from tui.widgets.syntax_theme import syntax_theme

if TYPE_CHECKING:
    from tui.engine_port import PauseInspection

__all__ = ["DebugPane", "Evaluation", "VariablesTree", "value_label"]

VARIABLE_ORDER = ("inputs", "vars", "outputs", "trigger", "execution", "flow", "task", "taskrun",
                  "parents")
"""Top-level variables in the order a user looks for them; any others follow, sorted."""
EXPANDED = ("inputs", "outputs")
MAX_CHILDREN = 500
"""A node lists at most this many entries (a huge output must not freeze the tree)."""
MAX_VALUE_CHARS = 200
MAX_EVALUATIONS = 50

KEYS_HELP = (
    ("b", "breakpoint on / off on the task under the cursor (Tasks)"),
    ("s", "run the selected flow step by step: it pauses before every task"),
    ("", "while paused:"),
    ("n", "next: run this task, pause before the next one"),
    ("c", "continue to the next breakpoint"),
    ("k", "skip this task (SKIPPED)"),
    (".", "re-run the task that finished last (after editing it)"),
    ("!", "a shell in the task's working directory"),
    ("x", "abort the execution"),
    (":", "evaluate a Pebble expression (also after a run, or on one from History)"),
)


@dataclass(frozen=True)
class Evaluation:
    """One ``:`` evaluation: what was typed, and the pretty JSON result or the error."""

    expression: str
    text: str
    ok: bool
    where: str = ""


def value_label(key: str, value: Any) -> Text:
    """``key: value`` for a scalar, ``key {n}`` / ``key [n]`` for a map / list."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(key, style="bold #87afd7")
    if isinstance(value, Mapping):
        text.append(f" {{{len(value)}}}", style="dim")
        return text
    if isinstance(value, list):
        text.append(f" [{len(value)}]", style="dim")
        return text
    text.append(": ", style="dim")
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        if len(shown) > MAX_VALUE_CHARS:
            shown = shown[:MAX_VALUE_CHARS] + "…"
        text.append(shown, style="#afd787")
    elif isinstance(value, bool) or value is None:
        text.append(json.dumps(value), style="#d787d7")
    else:
        text.append(str(value), style="#87d7d7")
    return text


@dataclass
class _VariableNode:
    value: Any
    filled: bool = False


class VariablesTree(Tree[_VariableNode]):
    """The variables in scope; maps and lists expand (their children are made on demand)."""

    ALLOW_MAXIMIZE = True
    BINDINGS: ClassVar[list[BindingType]] = VIM_CURSOR

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("variables", _VariableNode(None, True), id=id)
        self.show_root = False
        self.guide_depth = 2

    def show_variables(self, variables: Mapping[str, Any]) -> None:
        self.clear()
        known = [key for key in VARIABLE_ORDER if key in variables]
        others = sorted(key for key in variables if key not in VARIABLE_ORDER)
        for key in [*known, *others]:
            node = self._add(self.root, key, variables[key])
            if key in EXPANDED and node.allow_expand:
                self._fill(node)
                node.expand()

    def _add(self, parent: TreeNode[_VariableNode], key: str, value: Any) -> TreeNode[_VariableNode]:
        label = value_label(key, value)
        if isinstance(value, Mapping | list) and value:
            return parent.add(label, _VariableNode(value), expand=False)
        return parent.add_leaf(label, _VariableNode(value, True))

    def _fill(self, node: TreeNode[_VariableNode]) -> None:
        data = node.data
        if data is None or data.filled:
            return
        data.filled = True
        value = data.value
        items: Iterable[tuple[str, Any]] = (
            ((str(k), v) for k, v in value.items()) if isinstance(value, Mapping)
            else ((f"[{i}]", v) for i, v in enumerate(value)))
        total = len(value)
        for count, (key, child) in enumerate(items):
            if count >= MAX_CHILDREN:
                node.add_leaf(Text(f"… {total - MAX_CHILDREN} more", style="dim italic"),
                              _VariableNode(None, True))
                break
            self._add(node, key, child)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[_VariableNode]) -> None:
        event.stop()
        self._fill(event.node)

    def labels(self) -> list[str]:
        """Every node's label as plain text, in display order (what a user reads)."""
        found: list[str] = []

        def walk(node: TreeNode[_VariableNode], depth: int) -> None:
            for child in node.children:
                found.append("  " * depth + str(child.label))
                if child.is_expanded:
                    walk(child, depth + 1)

        walk(self.root, 0)
        return found


class DebugPane(Vertical, can_focus=True):
    """The Debug pane: the current pause (or how to get one) and the evaluation history."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    DebugPane { height: 1fr; }
    DebugPane > #debug-header { height: auto; padding: 0 1; }
    DebugPane > #debug-code { height: auto; max-height: 50%; }
    DebugPane #debug-source-box { width: 3fr; }
    DebugPane #debug-properties-box { width: 2fr; }
    DebugPane #debug-code > VerticalScroll { height: auto; max-height: 18;
                                             border: round $panel; border-title-color: $text-muted;
                                             scrollbar-size-vertical: 1; }
    DebugPane > VariablesTree { height: 1fr; min-height: 4; border: round $panel;
                                border-title-color: $text-muted; scrollbar-size-vertical: 1; }
    DebugPane > #debug-idle { height: auto; padding: 0 1; color: $text-muted; }
    DebugPane > #debug-evals-box { height: auto; max-height: 12; border-top: solid $panel;
                                   border-title-color: $text-muted; scrollbar-size-vertical: 1; }
    DebugPane #debug-evals { padding: 0 1; }
    DebugPane > #debug-code, DebugPane > VariablesTree { display: none; }
    DebugPane.-paused > #debug-code, DebugPane.-paused > VariablesTree { display: block; }
    DebugPane.-paused > #debug-idle { display: none; }
    DebugPane.-paused > #debug-evals-box { max-height: 8; }
    DebugPane.-no-evals > #debug-evals-box { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-no-evals")
        self.pause: PauseInspection | None = None
        self.evaluations: list[Evaluation] = []
        self._idle_key: object = None

    def compose(self) -> ComposeResult:
        yield Static("", id="debug-header")
        with Horizontal(id="debug-code"):
            with VerticalScroll(id="debug-source-box"):
                yield Static("", id="debug-source")
            with VerticalScroll(id="debug-properties-box"):
                yield Static("", id="debug-properties")
        yield VariablesTree(id="debug-vars")
        yield Static("", id="debug-idle")
        with VerticalScroll(id="debug-evals-box"):
            yield Static("", id="debug-evals")

    def on_mount(self) -> None:
        self.query_one("#debug-properties-box").border_title = "rendered properties"
        self.variables_tree.border_title = "variables in scope"
        self.query_one("#debug-evals-box").border_title = "evaluations (:)"
        self.show_idle("", frozenset())

    @property
    def variables_tree(self) -> VariablesTree:
        return self.query_one(VariablesTree)

    # -- the pause ----------------------------------------------------------------------------

    def show_pause(self, pause: PauseInspection) -> None:
        """Show ``pause``; nothing is redrawn when it is the one already shown."""
        if pause is self.pause:
            return
        self.pause = pause
        self._idle_key = None
        self.add_class("-paused")
        self.query_one("#debug-header", Static).update(pause_header(pause))
        source_box = self.query_one("#debug-source-box", VerticalScroll)
        source_box.border_title = f"YAML · line {pause.source_line}"
        self.query_one("#debug-source", Static).update(
            Syntax(pause.source or "(no source)", "yaml", theme=syntax_theme(), line_numbers=True,
                   start_line=pause.source_line, word_wrap=True))
        self.query_one("#debug-properties", Static).update(render_properties(pause))
        self.variables_tree.show_variables(pause.variables)

    def show_idle(self, flow_name: str, breakpoints: frozenset[str]) -> None:
        """Not paused: how to get a pause, and the selected flow's breakpoints."""
        key = (flow_name, breakpoints)
        if self.pause is None and key == self._idle_key:
            return
        self.pause = None
        self._idle_key = key
        self.remove_class("-paused")
        self.query_one("#debug-header", Static).update(
            Text("Not paused", style="bold") if flow_name else Text("No flow selected", style="bold"))
        self.query_one("#debug-idle", Static).update(idle_help(flow_name, breakpoints))

    # -- evaluations --------------------------------------------------------------------------

    def add_evaluation(self, evaluation: Evaluation) -> None:
        self.evaluations.append(evaluation)
        del self.evaluations[:-MAX_EVALUATIONS]
        self.remove_class("-no-evals")
        self.query_one("#debug-evals", Static).update(render_evaluations(self.evaluations))
        box = self.query_one("#debug-evals-box", VerticalScroll)
        self.call_after_refresh(box.scroll_end, animate=False)


def pause_header(pause: PauseInspection) -> Text:
    text = Text()
    text.append("⏸ paused before ", style="bold #d7af00")
    text.append(pause.task_id, style="bold")
    text.append(f" ({pause.task_type})", style="dim")
    text.append(f" — {pause.reason}", style="#d7af00")
    if pause.previous_task_id:
        text.append(f"\n  . re-runs {pause.previous_task_id} (the task that finished last)",
                    style="dim")
    return text


def render_properties(pause: PauseInspection) -> RenderableType:
    parts: list[RenderableType] = []
    if pause.properties:
        dumped = yaml.safe_dump(pause.properties, sort_keys=False, allow_unicode=True,
                                default_flow_style=False, width=10_000).rstrip("\n")
        parts.append(Syntax(dumped, "yaml", theme=syntax_theme(), word_wrap=True))
    for name, message in pause.property_errors.items():
        parts.append(Text.assemble(("✘ ", "bold #ff5f5f"), (f"{name}: ", "bold #ff5f5f"),
                                   (message, "#ff5f5f")))
    if not parts:
        parts.append(Text("(no properties to render)", style="dim"))
    return Group(*parts)


def idle_help(flow_name: str, breakpoints: frozenset[str]) -> Text:
    text = Text()
    for key, description in KEYS_HELP:
        if not key:
            text.append(f"  {description}\n", style="italic")
            continue
        text.append(f"  {key:<3}", style="bold #5fafff")
        text.append(f"{description}\n")
    if flow_name:
        text.append("\nBreakpoints in ", style="")
        text.append(flow_name, style="bold")
        text.append(": ")
        if breakpoints:
            text.append(", ".join(sorted(breakpoints)), style="bold #ff5f5f")
        else:
            text.append("none (b on a task in Tasks sets one)", style="dim")
    return text


def render_evaluations(evaluations: list[Evaluation]) -> Text:
    text = Text()
    for number, evaluation in enumerate(evaluations):
        if number:
            text.append("\n")
        text.append("› ", style="bold #5fafff")
        text.append(evaluation.expression, style="bold")
        if evaluation.where:
            text.append(f"   {evaluation.where}", style="dim")
        text.append("\n")
        style = "" if evaluation.ok else "#ff5f5f"
        for line in evaluation.text.splitlines() or [""]:
            text.append(f"  {line}\n", style=style)
    text.rstrip()
    return text
