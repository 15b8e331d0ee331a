"""Kestra's core runnable tasks: Log, Return, OutputValues, Fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.truth import is_truthy
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


@register
@dataclass(kw_only=True, eq=False)
class Log(Task):
    """Writes one or several messages to the execution's logs."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log")

    message: Any = prop(kind=Kind.LIST_OR_STRING, required=True)
    level: str = prop("INFO", kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        if isinstance(self.level, str) and "{{" not in self.level and self.level.upper() not in LOG_LEVELS:
            return [("level", f"'level' must be one of {', '.join(LOG_LEVELS)}, not '{self.level}'")]
        return []

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        level = ctx.render_str(self.level, "level").upper()
        if level not in LOG_LEVELS:
            raise TaskFailure(f"property 'level': '{level}' is not one of {', '.join(LOG_LEVELS)}")
        messages = self.message if isinstance(self.message, list) else [self.message]
        for index, message in enumerate(messages):
            ctx.log(level, ctx.render_str(message, f"message[{index}]" if len(messages) > 1 else "message"))
        return {}


@register
@dataclass(kw_only=True, eq=False)
class Return(Task):
    """Renders `format` and returns it as `outputs.<id>.value` (handy for debugging expressions)."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.debug.Return", "io.kestra.core.tasks.debugs.Return",
    )

    format: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        return {"value": ctx.render_str(self.format, "format") if self.format is not None else None}


@register
@dataclass(kw_only=True, eq=False)
class Echo(Task):
    """Kestra's deprecated Echo: logs `format` at `level`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.debug.Echo", "io.kestra.core.tasks.debugs.Echo")
    DEPRECATION: ClassVar[str | None] = "Echo is deprecated in Kestra; use io.kestra.plugin.core.log.Log"

    format: Any = prop(kind=Kind.STRING, required=True)
    level: str = prop("INFO", kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        ctx.log(ctx.render_str(self.level, "level").upper(), ctx.render_str(self.format, "format"))
        return {}


@register
@dataclass(kw_only=True, eq=False)
class OutputValues(Task):
    """Publishes rendered `values` as `outputs.<id>.values`."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.output.OutputValues", "io.kestra.core.tasks.outputs.OutputValues",
    )

    values: Any = prop(kind=Kind.MAP)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        return {"values": ctx.render(self.values, "values") or {}}


@register
@dataclass(kw_only=True, eq=False)
class Fail(Task):
    """Fails the execution, optionally only when `condition` is truthy."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.execution.Fail", "io.kestra.core.tasks.executions.Fail",
    )

    condition: Any = prop(kind=Kind.STRING)
    error_message: Any = prop("Task failure", kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        if self.condition is not None and not is_truthy(ctx.render(self.condition, "condition")):
            return {}
        raise TaskFailure(ctx.render_str(self.error_message, "errorMessage"))
