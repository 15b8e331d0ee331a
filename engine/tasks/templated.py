"""Kestra's TemplatedTask: `spec` is rendered to YAML describing one runnable task, which runs in its place.

The rendered task is built at run time through `ctx.build_task` (the flow layer's
checks and pluginDefaults, which tasks may not import), then run with this task's
own context: its logs, files and outputs are this task run's. Like Kestra, a spec
without an `id` is given this task's; a flowable task, or another TemplatedTask, is
refused with Kestra's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import InvalidFlowError, TaskFailure
from engine.core.yaml_source import YamlMap, load_yaml
from engine.tasks import registry
from engine.tasks.base import Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

CURRENT = "io.kestra.plugin.core.templating.TemplatedTask"


@register
@dataclass(kw_only=True, eq=False)
class TemplatedTask(Task):
    """Runs the task its rendered `spec` describes; its outputs are that task's."""

    TYPES: ClassVar[tuple[str, ...]] = (CURRENT, "io.kestra.core.tasks.templating.TemplatedTask")

    spec: Any = prop(kind=Kind.STRING, required=True)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:
        where = f"task '{self.id}' spec"
        text = ctx.render_str(self.spec, "spec")
        try:
            raw = load_yaml(text, where)
        except InvalidFlowError as exc:
            raise TaskFailure(f"property 'spec' does not render to valid YAML: {exc}") from None
        if not isinstance(raw, YamlMap):
            raise TaskFailure(f"property 'spec' must render to a YAML map with the task's 'type' and "
                              f"properties, not: {text.strip()[:200]!r}")
        if "id" not in raw:
            raw["id"] = self.id
        if registry.lookup(str(raw.get("type"))) is TemplatedTask:
            raise TaskFailure(f"The templated task cannot be of type '{CURRENT}'")
        task = ctx.build_task(raw, where)
        if task.FLOWABLE:
            raise TaskFailure("The templated task must be a runnable task")
        ctx.debug(f"running the templated {task.type}")
        return task.run(ctx)
