"""io.kestra.plugin.core.trigger.Toggle: enable or disable a trigger from a running flow.

`namespace` and `flowId` default to the current flow's; `trigger` is required; `enabled`
is false by default, as in Kestra (a Toggle without `enabled` disables). The switch goes
through `TaskContext.trigger_switch` (see engine/tasks/trigger_switch.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register


@register
@dataclass(kw_only=True, eq=False)
class Toggle(Task):
    """Switches a flow's trigger on or off (Roost: resumes or pauses it)."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.trigger.Toggle", "io.kestra.core.tasks.trigger.Toggle")

    namespace: Any = prop(kind=Kind.STRING)
    flow_id: Any = prop(kind=Kind.STRING)
    trigger: Any = prop(kind=Kind.STRING, required=True)
    enabled: Any = prop(False, kind=Kind.BOOL)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        namespace = ctx.render_optional_str(self.namespace, "namespace") or ctx.flow.namespace
        flow_id = ctx.render_optional_str(self.flow_id, "flowId") or ctx.flow.id
        trigger = ctx.render_str(self.trigger, "trigger").strip()
        if not trigger:
            raise TaskFailure("property 'trigger' rendered empty: give the id of the trigger to toggle")
        enabled = ctx.render_bool(self.enabled, "enabled")
        ctx.info(ctx.trigger_switch.set_trigger_enabled(namespace, flow_id, trigger, enabled))
        return {}
