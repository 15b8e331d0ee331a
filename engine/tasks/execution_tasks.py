"""Kestra's execution tasks: Labels, Resume, Count, Exit, Assert, PurgeExecutions.

They act on executions rather than on data: this one's labels or end, another paused
one, or the history. They reach the engine only through `ctx.control` and `ctx.history`
(engine.tasks.history_access); messages a user can act on keep Kestra's wording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.records import utcnow
from engine.core.states import State
from engine.core.truth import is_truthy
from engine.core.yaml_source import Position
from engine.store.history_queries import ExecutionFilter, FlowRef
from engine.tasks.base import Task, TaskResult
from engine.tasks.context import TaskContext
from engine.tasks.history_access import ExecutionHistory
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

SYSTEM_PREFIX = "system."
"""Kestra's reserved label prefix: only Kestra itself sets those labels."""

KESTRA_STATES = ("CREATED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING", "FAILED",
                 "KILLED", "CANCELLED", "QUEUED", "RETRYING", "RETRIED", "SKIPPED", "BREAKPOINT")
"""Every name of Kestra's State.Type: what a `states` filter may list."""

EXIT_STATES = {"SUCCESS": State.SUCCESS, "WARNING": State.WARNING, "KILLED": State.KILLED,
               "FAILED": State.FAILED, "CANCELED": State.KILLED}
"""Exit's choices; Roost has no CANCELLED state, so CANCELED ends the execution KILLED."""


def parse_date(text: str, prop_name: str) -> datetime:
    """Kestra's ZonedDateTime.parse: an ISO date-time with an offset (a bare one is taken as UTC)."""
    value = text.strip()
    if value.endswith("]") and "[" in value:   # ZonedDateTime's `...+01:00[Europe/Paris]`
        value = value[:value.index("[")]
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise TaskFailure(f"property '{prop_name}': '{text}' is not an ISO-8601 date-time such as "
                          "2024-01-31T10:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def require_history(ctx: TaskContext[Task], task: Task) -> ExecutionHistory:
    history = ctx.history
    if history is None:
        raise TaskFailure(f"task '{task.id}' needs the execution history, and this run keeps none "
                          "(history is disabled)")
    return history


def check_states(values: Any, prop_name: str) -> list[tuple[str | Position, str]]:
    if not isinstance(values, list):
        return []
    bad = [str(v) for v in values if str(v).upper() not in KESTRA_STATES]
    if bad:
        return [(prop_name, f"'{prop_name}' holds unknown state(s) {', '.join(bad)}; "
                            f"states are {', '.join(KESTRA_STATES)}")]
    return []


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


@register
@dataclass(kw_only=True, eq=False)
class Labels(Task):
    """Adds labels to the running execution, or replaces the values of existing ones."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.execution.Labels", "io.kestra.core.tasks.executions.Labels",
    )

    labels: Any = prop(kind=Kind.ANY, required=True)

    def validate(self) -> list[tuple[str | Position, str]]:
        if isinstance(self.labels, list):
            for index, item in enumerate(self.labels):
                if not isinstance(item, dict) or "key" not in item or "value" not in item:
                    return [("labels", f"'labels[{index}]' must be a map with 'key' and 'value'")]
        elif not isinstance(self.labels, dict | str):
            return [("labels", "'labels' must be a map, a list of {key, value} or a JSON string")]
        return []

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        labels = self._rendered(ctx)
        system = next(((k, v) for k, v in labels.items() if k.startswith(SYSTEM_PREFIX)), None)
        if system is not None:
            raise TaskFailure("System labels can only be set by Kestra itself, offending label: "
                              f"{system[0]}={system[1]}")
        ctx.control.update_labels(labels)
        return {}

    def _rendered(self, ctx: TaskContext[Task]) -> dict[str, str]:
        if isinstance(self.labels, str):
            text = ctx.render_str(self.labels, "labels")
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise TaskFailure(f"property 'labels': '{text}' is not a JSON object of labels ({exc.msg})") from None
            if not isinstance(parsed, dict):
                raise TaskFailure(f"property 'labels': '{text}' must be a JSON object (key: value)")
            return {str(k): _label_text(v) for k, v in parsed.items()}
        if isinstance(self.labels, list):
            return {ctx.render_str(item["key"], f"labels[{i}].key"): ctx.render_str(item["value"], f"labels[{i}].value")
                    for i, item in enumerate(self.labels)}
        if isinstance(self.labels, dict):
            return {ctx.render_str(k, "labels"): ctx.render_str(v, f"labels.{k}") for k, v in self.labels.items()}
        raise TaskFailure(f"property 'labels': unknown value type {type(self.labels).__name__}")


@register
@dataclass(kw_only=True, eq=False)
class Resume(Task):
    """Resumes a paused execution: this one by default, another with `executionId`."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.execution.Resume",)

    namespace: Any = prop(kind=Kind.STRING)
    flow_id: Any = prop(kind=Kind.STRING)
    execution_id: Any = prop(kind=Kind.STRING)
    inputs: Any = prop(kind=Kind.MAP)

    def validate(self) -> list[tuple[str | Position, str]]:
        return execution_reference_errors(self.namespace, self.flow_id, self.execution_id)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        for problem in execution_reference_errors(self.namespace, self.flow_id, self.execution_id):
            raise TaskFailure(problem[1])
        execution_id = ctx.render_optional_str(self.execution_id, "executionId") or ctx.execution_id
        namespace = ctx.render_optional_str(self.namespace, "namespace")
        flow_id = ctx.render_optional_str(self.flow_id, "flowId")
        inputs = ctx.render_map(self.inputs, "inputs") if self.inputs is not None else None
        ctx.control.resume_execution(execution_id, inputs, namespace=namespace, flow_id=flow_id)
        ctx.info(f"resumed execution {execution_id}")
        return {}


def execution_reference_errors(namespace: Any, flow_id: Any, execution_id: Any) -> list[tuple[str | Position, str]]:
    """Kestra's rules for naming another execution (PluginUtilsService.executionFromTaskParameters)."""
    if execution_id is not None:
        if (namespace is None) != (flow_id is None):
            return [("namespace" if namespace is None else "flowId",
                     "Both `namespace` and `flowId` must be set when `executionId` is set.")]
        return []
    if namespace is not None or flow_id is not None:
        return [("executionId", "`namespace` and `flowId` should only be set when `executionId` is set.")]
    return []


@register
@dataclass(kw_only=True, eq=False)
class Count(Task):
    """Counts executions per flow (or namespace) in history; keeps those `expression` accepts."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.execution.Count", "io.kestra.core.tasks.executions.Counts",
    )

    flows: Any = prop(kind=Kind.LIST, dynamic=False)
    states: Any = prop(kind=Kind.STRING_LIST, dynamic=False)
    start_date: Any = prop(kind=Kind.STRING)
    end_date: Any = prop(kind=Kind.STRING)
    expression: Any = prop(kind=Kind.STRING, required=True)
    namespaces: Any = prop(kind=Kind.STRING_LIST, dynamic=False)

    def validate(self) -> list[tuple[str | Position, str]]:
        if self.flows is None and self.namespaces is None:
            return [("flows", "You must provide a list of flows or namespaces")]
        for index, flow in enumerate(self.flows or []):
            if not isinstance(flow, dict) or not flow.get("namespace") or not flow.get("flowId"):
                return [("flows", f"'flows[{index}]' must be a map with 'namespace' and 'flowId'")]
        return check_states(self.states, "states")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        if self.flows is None and self.namespaces is None:
            raise TaskFailure("You must provide a list of flows or namespaces")
        history = require_history(ctx, self)
        now = utcnow()
        start = parse_date(ctx.render_str(self.start_date, "startDate"), "startDate") if self.start_date \
            else now - timedelta(days=30)
        end = parse_date(ctx.render_str(self.end_date, "endDate"), "endDate") if self.end_date else now
        flows = [FlowRef(str(f["namespace"]), str(f["flowId"])) for f in self.flows or []]
        states = [str(s).upper() for s in self.states or []]
        counts = history.count_executions(flows, [str(n) for n in self.namespaces or []], states, start, end)
        ctx.log("TRACE", f"{len(counts)} flows matching filters")
        results: list[dict[str, Any]] = []
        for item in counts:
            if self._accepts(ctx, item.count):
                result: dict[str, Any] = {"namespace": item.namespace, "count": item.count}
                if item.flow_id is not None:
                    result["flowId"] = item.flow_id
                results.append(result)
        ctx.debug(f"{len(results)} flows matching the expression")
        return {"results": results, "total": sum(r["count"] for r in results)}

    def _accepts(self, ctx: TaskContext[Task], count: int) -> bool:
        """Kestra keeps a line when the expression, rendered with `count`, prints `true`."""
        previous = ctx.extra_variables.get("count")
        ctx.extra_variables["count"] = count
        try:
            return ctx.render_str(self.expression, "expression").strip() == "true"
        finally:
            if previous is None:
                ctx.extra_variables.pop("count", None)
            else:
                ctx.extra_variables["count"] = previous


@register
@dataclass(kw_only=True, eq=False)
class Exit(Task):
    """Ends the execution in `state`: the tasks after it do not run; KILLED also stops running ones."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.execution.Exit",)

    state: Any = prop("SUCCESS", kind=Kind.STRING)

    def validate(self) -> list[tuple[str | Position, str]]:
        if isinstance(self.state, str) and "{{" not in self.state and self.state.upper() not in EXIT_STATES:
            return [("state", f"'state' must be one of {', '.join(EXIT_STATES)}, not '{self.state}'")]
        return []

    def run(self, ctx: TaskContext[Task]) -> TaskResult:
        name = ctx.render_str(self.state, "state").strip().upper()
        state = EXIT_STATES.get(name)
        if state is None:
            raise TaskFailure(f"property 'state': '{name}' is not one of {', '.join(EXIT_STATES)}")
        ctx.info(f"exiting the execution with state {name}")
        ctx.control.exit_execution(state)
        return TaskResult(state=state)


@register
@dataclass(kw_only=True, eq=False)
class Assert(Task):
    """Fails when any of `conditions` renders falsy, naming each failed one in the logs."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.core.execution.Assert",)

    conditions: Any = prop(kind=Kind.STRING_LIST, required=True)
    error_message: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        conditions = self.conditions if isinstance(self.conditions, list) else [self.conditions]
        failed = success = 0
        for index, condition in enumerate(conditions):
            try:
                rendered = ctx.render(condition, f"conditions[{index}]")
            except TaskFailure as failure:
                ctx.error(f"Assertion `{condition}` failed, failed to render `{failure.message}`")
                failed += 1
                continue
            if is_truthy(rendered):
                success += 1
            else:
                ctx.error(f"Assertion `{condition}` failed!")
                failed += 1
        ctx.metric("success", "counter", success)
        ctx.metric("failed", "counter", failed)
        if failed:
            message = f"{failed} assertion{'s' if failed > 1 else ''} failed!"
            if self.error_message is not None:
                message += "\n" + ctx.render_str(self.error_message, "errorMessage")
            raise TaskFailure(message)
        return {}


@register
@dataclass(kw_only=True, eq=False)
class PurgeExecutions(Task):
    """Deletes ended executions from history, with their logs, metrics and stored files."""

    TYPES: ClassVar[tuple[str, ...]] = (
        "io.kestra.plugin.core.execution.PurgeExecutions",
        "io.kestra.core.tasks.storages.Purge", "io.kestra.plugin.core.storage.Purge",
    )

    namespace: Any = prop(kind=Kind.STRING)
    flow_id: Any = prop(kind=Kind.STRING)
    start_date: Any = prop(kind=Kind.STRING)
    end_date: Any = prop(kind=Kind.STRING, required=True)
    states: Any = prop(kind=Kind.STRING_LIST, dynamic=False)
    purge_execution: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    purge_log: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    purge_metric: bool = prop(True, kind=Kind.BOOL, dynamic=False)
    purge_storage: bool = prop(True, kind=Kind.BOOL, dynamic=False)

    def validate(self) -> list[tuple[str | Position, str]]:
        return check_states(self.states, "states")

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        history = require_history(ctx, self)
        selection = ExecutionFilter(
            namespace=ctx.render_optional_str(self.namespace, "namespace"),
            flow_id=ctx.render_optional_str(self.flow_id, "flowId"),
            start_date=parse_date(ctx.render_str(self.start_date, "startDate"), "startDate")
            if self.start_date else None,
            end_date=parse_date(ctx.render_str(self.end_date, "endDate"), "endDate"),
            states=tuple(str(s).upper() for s in self.states or []),
        )
        counts = history.purge_executions(selection, executions=self.purge_execution, logs=self.purge_log,
                                          metrics=self.purge_metric, storage=self.purge_storage)
        return {"executionsCount": counts.executions, "logsCount": counts.logs,
                "storagesCount": counts.storages, "metricsCount": counts.metrics}
