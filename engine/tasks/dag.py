"""Kestra's Dag: tasks that declare what they depend on, run as soon as that has run.

The order is the dependencies', not the list's: a task starts once every task it
`dependsOn` has ended, side by side with whatever else is ready (at most `concurrent`
at once, 0: no limit). As in Kestra, a failure starts nothing new; the tasks already
running end, then `errors` run. A cycle or a dependency on a task the Dag does not hold
is refused when the flow loads, with Kestra's messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from engine.core.states import State, combine_states
from engine.core.yaml_source import Position
from engine.tasks.base import FlowableTask, Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

if TYPE_CHECKING:
    from concurrent.futures import Future


@dataclass(frozen=True)
class DagNode:
    """One item of a Dag's `tasks`: the task and the ids of the tasks it waits for."""

    task: Task
    depends_on: tuple[str, ...] = ()
    position: Position = Position(0, 0)


def missing_dependencies(nodes: Sequence[DagNode]) -> list[str]:
    """Ids named in a `dependsOn` that no task of the Dag has (Kestra's dagCheckNotExistTask)."""
    ids = {node.task.id for node in nodes}
    missing: list[str] = []
    for node in nodes:
        missing.extend(dep for dep in node.depends_on if dep not in ids and dep not in missing)
    return missing


def cyclic_tasks(nodes: Sequence[DagNode]) -> list[str]:
    """The tasks that depend on themselves, directly or not, in the Dag's order (as Kestra lists them)."""
    return [node.task.id for node in nodes if find_cycle(nodes, node.task.id)]


def find_cycle(nodes: Sequence[DagNode], start: str) -> list[str]:
    """One dependency path from `start` back to itself (`[a, b, a]`), or [] when there is none."""
    depends = {node.task.id: node.depends_on for node in nodes}
    seen: set[str] = set()

    def walk(current: str, path: list[str]) -> list[str]:
        for dep in depends.get(current, ()):
            if dep == start:
                return [*path, dep]
            if dep not in seen:
                seen.add(dep)
                found = walk(dep, [*path, dep])
                if found:
                    return found
        return []

    return walk(start, [start])


@register
@dataclass(kw_only=True, eq=False)
class Dag(FlowableTask):
    """Runs its tasks in the order their `dependsOn` give, in parallel where they allow."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.Dag", "io.kestra.core.tasks.flows.Dag")

    tasks: list[DagNode] = prop(factory=list, kind=Kind.DEPENDENT_TASKS, required=True, dynamic=False)
    concurrent: int = prop(0, kind=Kind.INT, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", [node.task for node in self.tasks]
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        # Kestra's DagTaskValidator: one problem at a time, missing ids before cycles.
        if not self.tasks:
            return [("tasks", "No task defined: 'tasks' must list at least one {task, dependsOn} item")]
        if isinstance(self.concurrent, int) and self.concurrent < 0:
            return [("concurrent", "'concurrent' must be 0 (no limit) or more")]
        missing = missing_dependencies(self.tasks)
        if missing:
            where = next(n.position for n in self.tasks if any(d in missing for d in n.depends_on))
            return [(where, f"Not existing task id in dependency: {', '.join(missing)} "
                            "(dependsOn may only name tasks of this Dag)")]
        cyclic = cyclic_tasks(self.tasks)
        if cyclic:
            where = next(n.position for n in self.tasks if n.task.id == cyclic[0])
            path = " -> ".join(find_cycle(self.tasks, cyclic[0]))
            return [(where, f"Cyclic dependency detected: {', '.join(cyclic)} ({path}); "
                            "remove one of these dependsOn")]
        return []

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        state = _DagRun(self.tasks, self.concurrent, ctx).run()
        if state is State.FAILED and self.errors and not ctx.cancelled:
            ctx.run_block(self.errors)
        if self.finally_:
            final = ctx.run_block(self.finally_)
            if final.is_failure:
                state = final
        return TaskResult(state=state)


class _DagRun:
    """One run of a Dag's tasks: starts each when its dependencies ended, on a few threads."""

    def __init__(self, nodes: Sequence[DagNode], concurrent: int, ctx: TaskContext[Task]) -> None:
        self._ctx = ctx
        self._limit = concurrent if concurrent > 0 else max(len(nodes), 1)
        # Disabled tasks never run: those that depend on them go ahead, as if they had ended.
        self._ended: dict[str, State] = {n.task.id: State.SKIPPED for n in nodes if n.task.disabled}
        self._waiting = [n for n in nodes if not n.task.disabled]

    def run(self) -> State:
        # Imported here: concurrent.futures brings logging, ~7 ms of every `roost validate`.
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        running: dict[Future[State], str] = {}
        failed = False
        with ThreadPoolExecutor(max_workers=self._limit, thread_name_prefix="dag") as pool:
            while True:
                if not failed and not self._ctx.cancelled:
                    for node in self._ready(self._limit - len(running)):
                        running[pool.submit(self._ctx.run_block, [node.task])] = node.task.id
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    state = future.result()
                    self._ended[running.pop(future)] = state
                    failed = failed or state.is_failure
        states = list(self._ended.values())
        if self._waiting and not failed and self._ctx.cancelled:
            states.append(State.KILLED)
        return combine_states(states)

    def _ready(self, room: int) -> list[DagNode]:
        ready: list[DagNode] = []
        for node in self._waiting:
            if len(ready) >= room:
                break
            if all(dep in self._ended for dep in node.depends_on):
                ready.append(node)
        for node in ready:
            self._waiting.remove(node)
        return ready
