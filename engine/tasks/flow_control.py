"""Kestra's flow-control tasks that wait or repeat: Sleep, WaitFor (LoopUntil), Template.

The Dag, which orders tasks by their dependencies, lives in `engine.tasks.dag`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from engine.core.durations import DurationError, format_duration, parse_duration
from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.core.truth import is_truthy
from engine.core.yaml_source import Position
from engine.tasks.base import FlowableTask, Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

# Longer waits overflow threading's timeout (P999999999D); ~30 years is forever here.
_MAX_WAIT_SECONDS = 1e9


def _wait(ctx: TaskContext[Task], duration: timedelta) -> bool:
    """Wait, or less if the task is stopped (cancel, timeout); True when it was stopped."""
    return ctx.stop.wait(min(max(duration.total_seconds(), 0.0), _MAX_WAIT_SECONDS))


@register
@dataclass(kw_only=True, eq=False)
class Sleep(Task):
    """Waits for `duration`; a cancel or the task's `timeout` ends the wait at once."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.flow.Sleep",)

    duration: Any = prop(kind=Kind.DURATION, required=True)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        duration = ctx.render_duration(self.duration, "duration")
        if duration is None:
            raise TaskFailure(f"task '{self.id}': 'duration' rendered empty; give an ISO-8601 duration such as PT5S")
        if duration < timedelta(0):
            raise TaskFailure(f"task '{self.id}': 'duration' must not be negative ({format_duration(duration)})")
        ctx.info(f"Waiting for {format_duration(duration)}")
        _wait(ctx, duration)  # stopped early: the executor makes it KILLED (cancel) or FAILED (timeout)
        return {}


# Kestra 0.20's WaitFor.CheckFrequency defaults (LoopUntil keeps them; see docs/kestra-coverage.md).
_FREQUENCY_KEYS = ("maxIterations", "maxDuration", "interval")
DEFAULT_MAX_ITERATIONS = 100
DEFAULT_MAX_DURATION = timedelta(hours=1)
DEFAULT_INTERVAL = timedelta(seconds=1)


@dataclass(frozen=True)
class CheckFrequency:
    """How often WaitFor loops and when it gives up; None: no limit of that kind."""

    max_iterations: int | None = DEFAULT_MAX_ITERATIONS
    max_duration: timedelta | None = DEFAULT_MAX_DURATION
    interval: timedelta = DEFAULT_INTERVAL


@register
@dataclass(kw_only=True, eq=False)
class WaitFor(FlowableTask):
    """Runs its tasks again and again until `condition` is true, or a limit of `checkFrequency` is hit.

    Kestra's counting is kept: `iterationCount` is 1 while the first pass runs and goes up
    by one after each pass that succeeded, before the condition is read; the limits are
    checked first (`iterationCount > maxIterations`, or `maxDuration` gone since the task
    started), and then the task ends SUCCESS, or FAILED with `failOnMaxReached`. Only a pass
    whose tasks all succeeded loops: a failed one ends the task (its `errors` run), a
    WARNING one ends it WARNING. Each pass's task runs carry `iteration` (1, 2...), which
    the children read as `taskrun.iteration`.
    """

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.LoopUntil", "io.kestra.plugin.core.flow.WaitFor",
    )

    tasks: list[Task] = prop(factory=list, kind=Kind.TASKS, required=True, dynamic=False)
    condition: Any = prop(kind=Kind.STRING, required=True)
    fail_on_max_reached: Any = prop(False, kind=Kind.BOOL)
    check_frequency: Any = prop(None, kind=Kind.MAP, dynamic=False)

    def child_task_lists(self) -> Iterator[tuple[str, list[Task]]]:
        yield "tasks", self.tasks
        yield from super().child_task_lists()

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = [] if self.tasks else [("tasks", "'tasks' must not be empty")]
        frequency = self.check_frequency or {}
        for key, value in frequency.items():
            if key not in _FREQUENCY_KEYS:
                problems.append(("checkFrequency", f"checkFrequency: unknown key '{key}' "
                                                   f"(known: {', '.join(_FREQUENCY_KEYS)})"))
            elif isinstance(value, str) and "{{" in value:
                problems.append(("checkFrequency", f"checkFrequency.{key} cannot be a template"))
        try:
            _frequency(frequency)
        except ValueError as exc:
            problems.append(("checkFrequency", str(exc)))
        return problems

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        try:
            frequency = _frequency(self.check_frequency or {})
        except ValueError as exc:
            raise TaskFailure(f"task '{self.id}': {exc}") from None
        fail_on_max = ctx.render_bool(self.fail_on_max_reached, "failOnMaxReached")
        started = time.monotonic()
        count = 1
        ctx.share_outputs({"iterationCount": count})
        while True:
            state = ctx.run_block(self.tasks, iteration=count)
            if state is not State.SUCCESS:
                if state is State.FAILED and self.errors and not ctx.cancelled:
                    ctx.run_block(self.errors)
                break
            count += 1
            ctx.share_outputs({"iterationCount": count})
            reached = _limit_reached(frequency, count, time.monotonic() - started)
            if reached:
                ctx.warn(reached)
                if fail_on_max:
                    ctx.error(f"task '{self.id}': {reached.lower()} before the condition was true "
                              "(failOnMaxReached is true)")
                    state = State.FAILED
                break
            if is_truthy(ctx.render(self.condition, "condition")):
                break
            if _wait(ctx, frequency.interval):
                state = State.KILLED
                break
        if self.finally_:
            final = ctx.run_block(self.finally_)
            if final.is_failure:
                state = final
        return TaskResult(outputs={"iterationCount": count}, state=state)


def _limit_reached(frequency: CheckFrequency, count: int, elapsed: float) -> str | None:
    """Kestra's reachedMaximums: the warning it logs, or None while the loop may go on."""
    if frequency.max_iterations is not None and count > frequency.max_iterations:
        return "Max iterations reached"
    if frequency.max_duration is not None and elapsed > frequency.max_duration.total_seconds():
        return "Max duration reached"
    return None


def _frequency(raw: Any) -> CheckFrequency:
    """checkFrequency read from YAML; ValueError names the key that is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("'checkFrequency' must be a map of maxIterations, maxDuration, interval")
    max_iterations: int | None = DEFAULT_MAX_ITERATIONS
    if "maxIterations" in raw:
        value = raw["maxIterations"]
        if value is not None:
            try:
                max_iterations = int(str(value).strip())
            except ValueError:
                raise ValueError(f"checkFrequency.maxIterations must be an integer, not '{value}'") from None
            if max_iterations < 1:
                raise ValueError("checkFrequency.maxIterations must be 1 or more")
        else:
            max_iterations = None
    max_duration = _duration(raw, "maxDuration", DEFAULT_MAX_DURATION)
    interval = _duration(raw, "interval", DEFAULT_INTERVAL) or DEFAULT_INTERVAL
    return CheckFrequency(max_iterations, max_duration, interval)


def _duration(raw: dict[str, Any], key: str, default: timedelta) -> timedelta | None:
    if key not in raw:
        return default
    value = raw[key]
    if value is None:
        return None
    try:
        duration = parse_duration(value if isinstance(value, int | float) else str(value))
    except DurationError as exc:
        raise ValueError(f"checkFrequency.{key}: {exc}") from None
    if duration < timedelta(0):
        raise ValueError(f"checkFrequency.{key} must not be negative")
    return duration


TEMPLATE_DEPRECATION = (
    "Template is deprecated in Kestra (templates were removed in favour of subflows): "
    "paste the template's tasks into this flow in place of the Template task, "
    "or move them to a flow of their own and call it with io.kestra.plugin.core.flow.Subflow"
)


@register
@dataclass(kw_only=True, eq=False)
class Template(FlowableTask):
    """Kestra's deprecated Template: runs the tasks of a template file found beside the flow."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.Template", "io.kestra.core.tasks.flows.Template",
    )
    DEPRECATION: ClassVar[str | None] = TEMPLATE_DEPRECATION

    namespace: str = prop(kind=Kind.STRING, required=True, dynamic=False)
    template_id: str = prop(kind=Kind.STRING, required=True, dynamic=False)
    args: Any = prop(None, kind=Kind.MAP)

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        found = ctx.find_template(self.namespace, self.template_id)
        if found is None:
            raise TaskFailure(
                f"task '{self.id}': template '{self.namespace}.{self.template_id}' not found: Roost looks for "
                f"a template file (id, namespace, tasks) beside the flow and in its templates/ folder. "
                f"{TEMPLATE_DEPRECATION}.")
        tasks, errors = found
        ctx.warn(f"running the tasks of deprecated template '{self.namespace}.{self.template_id}'")
        if self.args:
            ctx.warn("'args' is not passed on: Roost's templates do not see parent.outputs.args")
        state = ctx.run_block(tasks, [*errors, *self.errors], self.finally_)
        return TaskResult(state=state)
