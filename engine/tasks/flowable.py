"""Kestra's flowable tasks: they run other tasks and own no process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
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
        if tasks is None and not self.defaults:
            # Kestra's FlowableUtils.resolveState: no child task to run fails the Switch.
            flow = ctx.flow
            ctx.warn(f"No task found on flow '{flow.namespace}.{flow.id}', task '{self.id}', "
                     f"execution '{ctx.execution_id}'")
            cases = ", ".join(f"'{key}'" for key in self.cases) or "none"
            raise TaskFailure(f"task '{self.id}': value '{value}' matches no case (cases: {cases}) "
                              f"and there are no 'defaults'; add a case or 'defaults'",
                              outputs={"value": value, "defaults": True})
        state = ctx.run_block(self.defaults if tasks is None else tasks, self.errors, self.finally_)
        return TaskResult(outputs={"value": value, "defaults": used_defaults}, state=state)


def _iteration_values(ctx: TaskContext[Task], raw: Any, prop_name: str) -> list[str]:
    """Kestra's FlowableUtils.resolveEachTasks: distinct values, none null, non-strings as JSON."""
    values = ctx.render_list(raw, prop_name)
    nulls = sum(1 for v in values if v is None)
    if nulls:
        shown = ", ".join(_java_text(v) for v in values)
        raise TaskFailure(f"task '{ctx.task_id}' property '{prop_name}': Found '{min(nulls, 1)}' "
                          f"null values on Each, with values=[{shown}]; remove the null values")
    distinct: dict[str, str] = {}
    for v in values:
        text = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        distinct.setdefault(json.dumps(v, sort_keys=True, default=str), text)
    return list(distinct.values())


def _java_text(value: Any) -> str:
    """A value as Java's `List.toString` prints it in Kestra's message (`{key=my-key}`, `null`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    return str(value)


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
    """Pauses the execution until it is resumed, or until `pauseDuration` passes.

    Kestra's two generations of properties: `pauseDuration` + `behavior` (what happens when the
    duration passes: RESUME, WARN, FAIL or CANCEL), and the older `delay` (resume after it) and
    `timeout` (fail unless resumed before it: the task goes PAUSED → FAILED and its `tasks`
    never run). `timeout` is the Pause's own, not the generic task timeout (OWN_TIMEOUT).
    """

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.Pause", "io.kestra.core.tasks.flows.Pause")
    OWN_TIMEOUT: ClassVar[bool] = True

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

    def _wait_and_behavior(self, ctx: TaskContext[Task]) -> tuple[timedelta | None, str]:
        """How long to wait and what then: `pauseDuration`/`delay` with `behavior`; a `timeout`
        that comes first fails the task (Kestra's ExecutionDelay to FAILED)."""
        if self.pause_duration is not None:
            duration = ctx.render_duration(self.pause_duration, "pauseDuration")
        else:
            duration = ctx.render_duration(self.delay, "delay")
        timeout = ctx.render_duration(self.timeout, "timeout")
        if timeout is not None and (duration is None or timeout < duration):
            return timeout, "FAIL"
        if duration is not None:
            return duration, str(self.behavior).upper()
        return None, "RESUME"

    def _on_resume_values(self, ctx: TaskContext[Task], resumed: bool) -> dict[str, Any]:
        """The resume form's values, checked as flow inputs; a pause that resumed by itself had
        no form, so its inputs take their `defaults` (None when they have none)."""
        if resumed:
            return ctx.resume_inputs(self.on_resume)
        return {str(d["id"]): d.get("defaults") for d in self.on_resume if isinstance(d, dict) and "id" in d}

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        duration, behavior = self._wait_and_behavior(ctx)
        ctx.info(f"paused for {duration.total_seconds():g}s" if duration else "paused until resumed")
        resumed = ctx.wait_for_resume(duration, resume_on_timeout=behavior == "RESUME")
        if ctx.cancelled:
            return TaskResult(state=State.KILLED)
        if not resumed and duration is not None and behavior != "RESUME":
            waited = f"{duration.total_seconds():g}s"
            if behavior == "FAIL":
                raise TaskFailure(f"task '{self.id}': not resumed within {waited}, so the pause fails")
            if behavior == "CANCEL":
                ctx.warn(f"not resumed within {waited}: the execution is cancelled (behavior CANCEL)")
                return TaskResult(state=State.KILLED)
            ctx.warn(f"not resumed within {waited} (behavior WARN)")
            return TaskResult(state=State.WARNING)
        outputs = {"onResume": self._on_resume_values(ctx, resumed)} if self.on_resume else {}
        if not self.tasks and not self.finally_:
            return TaskResult(outputs=outputs)
        return TaskResult(outputs=outputs, state=ctx.run_block(self.tasks, self.errors, self.finally_))
