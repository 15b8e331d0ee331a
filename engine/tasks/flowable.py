"""Kestra's flowable tasks: they run other tasks and own no process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.core.truth import is_truthy
from engine.core.yaml_source import Position
from engine.tasks.base import FlowableTask, Task, TaskResult
from engine.tasks.context import ChildGroup, TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register


@register
@dataclass(kw_only=True, eq=False)
class Sequential(FlowableTask):
    """Runs its tasks one after another."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.Sequential", "io.kestra.core.tasks.flows.Sequential",
    )

    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        return [] if self.tasks else [("tasks", "'tasks' must not be empty")]

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        return TaskResult(state=ctx.run_block(self.tasks, self.errors, self.finally_))


@register
@dataclass(kw_only=True, eq=False)
class AllowFailure(Sequential):
    """Runs its tasks; a failure among them becomes WARNING and the flow goes on."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.AllowFailure", "io.kestra.core.tasks.flows.AllowFailure",
    )

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        state = ctx.run_block(self.tasks, self.errors, self.finally_)
        return TaskResult(state=State.WARNING if state is State.FAILED else state)


@register
@dataclass(kw_only=True, eq=False)
class Parallel(FlowableTask):
    """Runs its tasks at the same time, at most `concurrent` at once (0: all)."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.Parallel", "io.kestra.core.tasks.flows.Parallel",
    )

    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)
    concurrent: int = prop(0, kind=Kind.INT, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        return [] if self.tasks else [("tasks", "'tasks' must not be empty")]

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        groups = [ChildGroup([task]) for task in self.tasks if not task.disabled]
        state = ctx.run_concurrently(groups, self.concurrent)
        return TaskResult(state=_after_children(ctx, state, self))


def _after_children(ctx: TaskContext[Task], state: State, task: FlowableTask) -> State:
    """Kestra's errors/finally around children that were not run through run_block."""
    if state is State.FAILED and task.errors:
        ctx.run_block(task.errors)
    if task.finally_:
        final = ctx.run_block(task.finally_)
        if final in (State.FAILED, State.KILLED):
            state = final
    return state


@register
@dataclass(kw_only=True, eq=False)
class If(FlowableTask):
    """Runs `then` when `condition` is truthy (Kestra's rules), else `else`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.If", "io.kestra.core.tasks.flows.If")

    condition: Any = prop(kind=Kind.STRING, required=True)
    then: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)
    else_: list[Task] = prop(factory=list, kind=Kind.TASKS, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "then", self.then
        yield "else", self.else_
        yield from super().child_task_lists()

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        branch = self.then if is_truthy(ctx.render(self.condition, "condition")) else self.else_
        ctx.debug(f"condition is {'true' if branch is self.then else 'false'}")
        return TaskResult(state=ctx.run_block(branch, self.errors, self.finally_))


@register
@dataclass(kw_only=True, eq=False)
class Switch(FlowableTask):
    """Runs the tasks of the case equal to the rendered `value`, else `defaults`."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.Switch", "io.kestra.core.tasks.flows.Switch",
    )

    value: Any = prop(kind=Kind.STRING, required=True)
    cases: dict[str, list[Task]] = prop(factory=dict, kind=Kind.MAP_OF_TASKS, dynamic=False)
    defaults: list[Task] = prop(factory=list, kind=Kind.TASKS, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        for key, tasks in self.cases.items():
            yield f"cases.{key}", tasks
        yield "defaults", self.defaults
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        return [] if self.cases or self.defaults else [("cases", "needs 'cases' or 'defaults'")]

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        value = ctx.render_str(self.value, "value")
        tasks = self.cases.get(value)
        used_defaults = tasks is None
        state = ctx.run_block(self.defaults if tasks is None else tasks, self.errors, self.finally_)
        return TaskResult(outputs={"value": value, "defaults": used_defaults}, state=state)


def _iteration_values(ctx: TaskContext[Task], raw: Any, prop_name: str) -> list[str]:
    values = ctx.render_list(raw, prop_name)
    return [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in values]


@register
@dataclass(kw_only=True, eq=False)
class ForEach(FlowableTask):
    """Runs its tasks once per value; outputs are keyed by value (`outputs.t['b'].value`)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.ForEach",)

    values: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    concurrency_limit: int = prop(1, kind=Kind.INT, dynamic=False)
    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = (
            [] if self.tasks else [("tasks", "'tasks' must not be empty")])
        if isinstance(self.concurrency_limit, int) and self.concurrency_limit < 0:
            problems.append(("concurrencyLimit", "'concurrencyLimit' must be 0 (no limit) or more"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        values = _iteration_values(ctx, self.values, "values")
        groups = [ChildGroup(self.tasks, value) for value in values]
        state = ctx.run_concurrently(groups, self.concurrency_limit)
        return TaskResult(state=_after_children(ctx, state, self))


@register
@dataclass(kw_only=True, eq=False)
class EachSequential(FlowableTask):
    """Kestra's deprecated EachSequential: ForEach one value at a time."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.EachSequential", "io.kestra.core.tasks.flows.EachSequential",
    )
    DEPRECATION: ClassVar[str | None] = "EachSequential is deprecated in Kestra; use ForEach"

    value: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def concurrency(self) -> int:
        return 1

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        groups = [ChildGroup(self.tasks, v) for v in _iteration_values(ctx, self.value, "value")]
        state = ctx.run_concurrently(groups, self.concurrency())
        return TaskResult(state=_after_children(ctx, state, self))


@register
@dataclass(kw_only=True, eq=False)
class EachParallel(EachSequential):
    """Kestra's deprecated EachParallel: ForEach with `concurrent` values at once (0: all)."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.EachParallel", "io.kestra.core.tasks.flows.EachParallel",
    )
    DEPRECATION: ClassVar[str | None] = "EachParallel is deprecated in Kestra; use ForEach with concurrencyLimit"

    concurrent: int = prop(0, kind=Kind.INT, dynamic=False)

    def concurrency(self) -> int:
        return self.concurrent


PAUSE_BEHAVIORS = ("RESUME", "WARN", "FAIL", "CANCEL")


@register
@dataclass(kw_only=True, eq=False)
class Pause(FlowableTask):
    """Pauses the execution until it is resumed, or until `pauseDuration` passes."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.Pause", "io.kestra.core.tasks.flows.Pause")

    pause_duration: Any = prop(kind=Kind.DURATION)
    delay: Any = prop(kind=Kind.DURATION, deprecated="is deprecated in Kestra; use pauseDuration")
    behavior: str = prop("RESUME", kind=Kind.STRING, dynamic=False)
    on_resume: Any = prop(kind=Kind.LIST, dynamic=False)
    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        if str(self.behavior).upper() not in PAUSE_BEHAVIORS:
            return [("behavior", f"'behavior' must be one of {', '.join(PAUSE_BEHAVIORS)}")]
        return []

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        duration = ctx.render_duration(self.pause_duration if self.pause_duration is not None else self.delay,
                                       "pauseDuration")
        ctx.info(f"paused for {duration.total_seconds():g}s" if duration else "paused until resumed")
        resumed = ctx.wait_for_resume(duration)
        if ctx.cancelled:
            return TaskResult(state=State.KILLED)
        behavior = str(self.behavior).upper()
        if not resumed and duration is not None and behavior != "RESUME":
            if behavior == "FAIL":
                raise TaskFailure(f"pause of {duration.total_seconds():g}s ran out (behavior FAIL)")
            if behavior == "CANCEL":
                return TaskResult(state=State.KILLED)
            return TaskResult(state=State.WARNING)
        state = ctx.run_block(self.tasks, self.errors, self.finally_) if self.tasks else State.SUCCESS
        return TaskResult(state=state)
