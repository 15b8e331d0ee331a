"""Kestra's Subflow task: run another flow as a child execution, and hand back its outputs.

The child is a real execution (recorded in history, its own task runs and logs) created
through `TaskContext.child_flows`; its `trigger` variables name the parent execution as
Kestra's do (`trigger.executionId`, `trigger.namespace`, `trigger.flowId`,
`trigger.flowRevision`). The helpers below (labels, start date, waiting, the state a child
hands back) are ForEachItem's too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.states import State
from engine.core.yaml_source import Position
from engine.tasks.base import Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register
from engine.tasks.subflow_port import SYSTEM_LABEL_PREFIX, ChildOutcome, ChildRequest, ChildRun

CURRENT_REVISION = 1
"""Roost runs a flow file as it is: its one revision is the current one."""

_POLL_SECONDS = 0.1
"""How often a waiting task looks at its own stop flag (the child's end wakes it at once)."""

_TRANSMITTED = (State.FAILED, State.KILLED, State.WARNING, State.PAUSED)


def is_literal(value: Any) -> bool:
    """A value no template decides (static checks can trust it)."""
    return isinstance(value, str) and "{{" not in value and "{%" not in value


def label_pairs(raw: Any) -> list[tuple[Any, Any]] | None:
    """Kestra's `labels` as (key, value) pairs: a map, or a list of {key, value}; None if neither."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    if isinstance(raw, list) and all(isinstance(item, dict) and "key" in item for item in raw):
        return [(item["key"], item.get("value")) for item in raw]
    return None


def label_problems(raw: Any) -> list[tuple[str | Position, str]]:
    """Load-time checks of `labels`: the shape, and no system label (Kestra sets those)."""
    pairs = label_pairs(raw)
    if pairs is None:
        return [("labels", "'labels' must be a map of key: value, or a list of {key, value}")]
    return [("labels", "System labels can only be set by Kestra itself, offending label: "
                       f"{key}={value}")
            for key, value in pairs if isinstance(key, str) and key.startswith(SYSTEM_LABEL_PREFIX)]


def render_labels(ctx: TaskContext[Task], raw: Any) -> dict[str, str]:
    """The task's labels with keys and values rendered (checked again: a template may make one)."""
    labels: dict[str, str] = {}
    for key, value in label_pairs(raw) or []:
        name = ctx.render_str(key, "labels")
        if name.startswith(SYSTEM_LABEL_PREFIX):
            raise TaskFailure(f"property 'labels': System labels can only be set by Kestra itself, "
                              f"offending label: {name}")
        labels[name] = ctx.render_str(value, f"labels.{name}")
    return labels


def render_schedule_date(ctx: TaskContext[Task], raw: Any) -> datetime | None:
    """`scheduleDate` as an aware date-time (UTC when the text gives no offset)."""
    rendered = ctx.render(raw, "scheduleDate")
    if rendered is None or rendered == "":
        return None
    if isinstance(rendered, datetime):
        moment = rendered
    else:
        text = str(rendered).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise TaskFailure(f"property 'scheduleDate': '{text}' is not an ISO-8601 date-time "
                              "such as 2025-01-31T10:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def warn_on_revision(ctx: TaskContext[Task], raw: Any) -> None:
    """Roost keeps no older revisions: say so when another one is asked for."""
    revision = ctx.render_int(raw, "revision") if raw is not None else None
    if revision is not None and revision != CURRENT_REVISION:
        ctx.warn(f"revision {revision} asked for: Roost runs the flow file as it is now "
                 f"(revision {CURRENT_REVISION})")


def wait_for_child(ctx: TaskContext[Task], child: ChildRun) -> ChildOutcome:
    """Block until the child ends; a cancel or timeout of this task kills it first."""
    killed = False
    while True:
        outcome = child.wait(_POLL_SECONDS)
        if outcome is not None:
            return outcome
        if ctx.stop.is_set() and not killed:
            killed = True
            child.cancel()


def transmitted_state(state: State, transmit_failed: bool) -> State:
    """Kestra's ExecutableUtils.guessState before allowFailure/allowWarning (the lifecycle does those)."""
    if transmit_failed and state in _TRANSMITTED:
        return state
    return State.SUCCESS


@register
@dataclass(kw_only=True, eq=False)
class Subflow(Task):
    """Runs the flow `namespace`.`flowId` as a child execution; by default waits and fails with it."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.flow.Subflow",
        "io.kestra.core.tasks.flows.Subflow",
        "io.kestra.core.tasks.flows.Flow",
    )

    namespace: Any = prop(kind=Kind.STRING, required=True)
    flow_id: Any = prop(kind=Kind.STRING, required=True)
    revision: Any = prop(kind=Kind.INT)
    inputs: Any = prop(kind=Kind.MAP)
    labels: Any = prop(kind=Kind.ANY)
    wait: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    transmit_failed: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    inherit_labels: bool = prop(False, kind=Kind.BOOL, dynamic=False)
    outputs: Any = prop(kind=Kind.MAP, deprecated="is deprecated in Kestra (since 0.15): declare "
                                                  "`outputs` in the subflow itself")
    schedule_date: Any = prop(kind=Kind.STRING)

    def called_flow(self) -> tuple[str, str] | None:
        if is_literal(self.namespace) and is_literal(self.flow_id):
            return str(self.namespace), str(self.flow_id)
        return None

    def validate(self) -> list[tuple[str | Position, str]]:
        problems = label_problems(self.labels)
        if isinstance(self.revision, int) and self.revision < 1:
            problems.append(("revision", "'revision' must be 1 or more"))
        return problems

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any] | TaskResult:
        namespace = ctx.render_str(self.namespace, "namespace")
        flow_id = ctx.render_str(self.flow_id, "flowId")
        warn_on_revision(ctx, self.revision)
        request = ChildRequest(
            namespace=namespace, flow_id=flow_id,
            inputs=ctx.render_map(self.inputs, "inputs") if self.inputs is not None else {},
            labels=render_labels(ctx, self.labels), inherit_labels=self.inherit_labels,
            schedule_date=render_schedule_date(ctx, self.schedule_date),
        )
        child = ctx.child_flows.start(request)
        ctx.info(f"Created new execution {child.execution_id} of flow {request.flow_key}")
        if not self.wait:
            return {"executionId": child.execution_id, "state": State.CREATED.value}
        outcome = wait_for_child(ctx, child)
        outputs: dict[str, Any] = {"executionId": outcome.execution_id, "state": outcome.state.value}
        if outcome.outputs:
            outputs["outputs"] = outcome.outputs
        elif self.outputs:
            try:
                outputs["outputs"] = child.render(self.outputs, "outputs")
            except TaskFailure as failure:
                raise TaskFailure(f"cannot extract the subflow's outputs: {failure.message}",
                                  outputs=outputs) from None
        return self._end(ctx, request.flow_key, outcome, outputs)

    def _end(self, ctx: TaskContext[Task], flow_key: str, outcome: ChildOutcome,
             outputs: dict[str, Any]) -> dict[str, Any] | TaskResult:
        state = transmitted_state(outcome.state, self.transmit_failed)
        told = f"subflow execution {outcome.execution_id} ({flow_key}) ended {outcome.state.value}"
        if state is State.FAILED:
            raise TaskFailure(told, outputs=outputs)
        if state is State.SUCCESS:
            if outcome.state is not State.SUCCESS:
                ctx.info(f"{told}; transmitFailed is false, so this task succeeds")
            return outputs
        ctx.warn(told)
        return TaskResult(outputs=outputs, state=state)
