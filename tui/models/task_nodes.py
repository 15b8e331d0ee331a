"""The task tree as data: a flow's tasks (nesting, branches) merged with an execution's runs.

A pure function of (flow, task runs) so that it is tested without a screen and the tree widget
only reconciles nodes by key (keeping expansion and the cursor across live updates and reloads).

Keys: a task is ``("task", task_id, value_path)``, a ForEach iteration ``("iter", task_id,
value_path)`` (the children's value path), a branch label (then/else/errors/finally...)
``("branch", owner_task_id or "", name, value_path)``. Task ids are unique in a flow, so keys
stay stable when the file is edited around them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tui.engine_port import UnavailableTask

if TYPE_CHECKING:
    from tui.engine_port import Flow, Task, TaskRun

__all__ = ["NodeKey", "TaskNode", "build_task_nodes", "short_type"]

NodeKey = tuple[str, str, str, tuple[str, ...]] | tuple[str, str, tuple[str, ...]]

_BRANCH_LABELS = {"errors": "errors", "finally": "finally", "then": "then", "else": "else",
                  "defaults": "defaults"}


@dataclass
class TaskNode:
    """One row of the task tree."""

    key: NodeKey
    kind: str  # "task" | "iter" | "branch"
    label: str  # task id, iteration value or branch name
    task_type: str = ""
    task_run: TaskRun | None = None
    disabled: bool = False
    children: list[TaskNode] = field(default_factory=list)
    line: int | None = None
    unavailable: bool = False
    """A plugin type Roost does not run (engine's UnavailableTask): it runs mocked or not at all."""

    @property
    def task_id(self) -> str | None:
        return self.label if self.kind == "task" else None

    def walk(self) -> Iterable[TaskNode]:
        yield self
        for child in self.children:
            yield from child.walk()


def short_type(type_name: str) -> str:
    """``io.kestra.plugin.scripts.python.Script`` -> ``python.Script``: enough to recognise it."""
    parts = type_name.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else type_name


class _RunIndex:
    """Task runs by (task_id, parent run id, value path); the latest run wins."""

    def __init__(self, runs: Sequence[TaskRun]) -> None:
        self.by_key: dict[tuple[str, str | None, tuple[str, ...]], TaskRun] = {}
        self.children_values: dict[str, list[tuple[str, ...]]] = {}
        for run in runs:
            self.by_key[(run.task_id, run.parent_task_run_id, tuple(run.value_path))] = run
        for run in runs:
            parent = run.parent_task_run_id
            if parent is None:
                continue
            values = self.children_values.setdefault(parent, [])
            path = tuple(run.value_path)
            if path not in values:
                values.append(path)

    def find(self, task_id: str, parent: str | None, value_path: tuple[str, ...]) -> TaskRun | None:
        return self.by_key.get((task_id, parent, value_path))


def build_task_nodes(flow: Flow, runs: Sequence[TaskRun] = ()) -> list[TaskNode]:
    """The rows under the flow root: tasks, then the flow's errors and finally branches."""
    index = _RunIndex(runs)
    nodes = [_task_node(task, index, None, ()) for task in flow.tasks]
    for name, tasks in (("errors", flow.errors), ("finally", flow.finally_)):
        if tasks:
            branch = TaskNode(("branch", "", name, ()), "branch", name)
            branch.children = [_task_node(task, index, None, ()) for task in tasks]
            nodes.append(branch)
    return nodes


def _task_node(task: Task, index: _RunIndex, parent: str | None,
               value_path: tuple[str, ...]) -> TaskNode:
    run = index.find(task.id, parent, value_path)
    unavailable = isinstance(task, UnavailableTask)
    node = TaskNode(("task", task.id, value_path), "task", task.id, short_type(task.type), run,
                    disabled=bool(getattr(task, "disabled", False)),
                    line=getattr(task.position, "line", None), unavailable=unavailable)
    lists = list(task.child_task_lists())
    if not lists:
        return node
    child_paths = index.children_values.get(run.id, []) if run is not None else []
    iterations = [p for p in child_paths if len(p) > len(value_path) and p[: len(value_path)] == value_path]
    if iterations:
        # A ForEach-like task: one node per value, each holding the tasks run for that value.
        body = [tasks for name, tasks in lists if name == "tasks"]
        for path in iterations:
            iteration = TaskNode(("iter", task.id, path), "iter", path[-1])
            iteration.children = [
                _task_node(child, index, run.id if run else None, path)
                for tasks in body for child in tasks
            ]
            node.children.append(iteration)
        for name, tasks in lists:
            if name != "tasks" and tasks:
                node.children.append(_branch(task, name, tasks, index, run, value_path))
        return node
    for name, tasks in lists:
        if not tasks:
            continue
        if name in ("tasks",):
            node.children.extend(_task_node(child, index, run.id if run else None, value_path)
                                 for child in tasks)
        else:
            node.children.append(_branch(task, name, tasks, index, run, value_path))
    return node


def _branch(task: Task, name: str, tasks: Sequence[Task], index: _RunIndex, run: TaskRun | None,
            value_path: tuple[str, ...]) -> TaskNode:
    label = _BRANCH_LABELS.get(name, name.replace("cases.", "case "))
    branch = TaskNode(("branch", task.id, name, value_path), "branch", label)
    branch.children = [_task_node(child, index, run.id if run else None, value_path)
                       for child in tasks]
    return branch


def run_duration(run: TaskRun, now: datetime | None = None) -> float | None:
    """Seconds the run ran: from its first state to its end (or now while it runs), less the
    time it waited at a breakpoint (``run.paused_seconds``, shown apart)."""
    start = run.start_date
    if start is None:
        return None
    end = run.end_date
    if end is None:
        from tui.models import formatting

        end = now or formatting.now()
    return max(0.0, (end - start).total_seconds() - run.paused_seconds)
