"""What Kestra's *Execution notification tasks say about an execution, read from history.

Kestra's ExecutionService.executionMap gives its message templates an execution (namespace,
flow, id, current state), its start date, its `humanDuration` (`HH:mm:ss.SSS`), a link to
its page, the custom message and fields, and one task run: for another execution (the usual
case, `executionId: "{{ trigger.executionId }}"` under a Flow trigger) the last task run in
FAILED when any failed, else the last in SUCCESS; for the current execution the last task run
so far. That task is `lastTask`, and `firstFailed` when it failed. Roost reads the same from
history.db through `ctx.history`; for the current execution it leaves out the notifying
task's own run, which is still running and would always hide the task that failed before it.

Roost has no UI server: the link is `{kestra.url}/ui/executions/{namespace}/{flowId}/{id}`
when the run knows a Kestra URL (a `kestra.url` variable, else the KESTRA_URL environment
variable), and otherwise the messages point at `roost execution <id>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.errors import TaskFailure
from engine.core.records import Execution, TaskRun, utcnow
from engine.core.states import State
from engine.tasks.base import Task
from engine.tasks.context import TaskContext


@dataclass(frozen=True)
class ExecutionSummary:
    """One execution as a notification describes it."""

    execution_id: str
    namespace: str
    flow_id: str
    state: str
    start_date: datetime | None
    duration: str
    link: str | None
    last_task_id: str | None = None
    failed_task_id: str | None = None
    custom_message: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """`[namespace] flowId ➛ STATE`, the first line of every template."""
        return f"[{self.namespace}] {self.flow_id} ➛ {self.state}"

    @property
    def outcome(self) -> str:
        """`Succeeded after …` or ``Failed on task `id` after …``."""
        if self.failed_task_id is None:
            return f"Succeeded after {self.duration}"
        return f"Failed on task `{self.failed_task_id}` after {self.duration}"

    @property
    def roost_command(self) -> str:
        """What to run to see the execution when there is no page to link to."""
        return f"roost execution {self.execution_id}"

    def linked_title(self, markup: str = "slack") -> str:
        """The title linked to the execution page (`<url|title>` or `[title](url)`), or the
        title followed by the roost command when there is no page."""
        if self.link is None:
            return f"{self.title} ({self.roost_command})"
        if markup == "markdown":
            return f"[{self.title}]({self.link})"
        return f"<{self.link}|{self.title}>"

    @property
    def start_timestamp(self) -> int | None:
        """Kestra's `timestamp` filter on the start date: Unix seconds."""
        return int(self.start_date.timestamp()) if self.start_date is not None else None


def human_duration(seconds: float) -> str:
    """Apache's DurationFormatUtils.formatDurationHMS: `HH:mm:ss.SSS`, hours unbounded."""
    millis = max(0, int(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def kestra_url(ctx: TaskContext[Task]) -> str | None:
    """The Kestra server URL the run knows of: a `kestra.url` variable, else $KESTRA_URL."""
    kestra = ctx.variables().get("kestra")
    if isinstance(kestra, dict) and kestra.get("url"):
        return str(kestra["url"])
    return ctx.environ.get("KESTRA_URL") or None


def reported_task(execution: Execution, task_runs: list[TaskRun], current: bool) -> TaskRun | None:
    """The task run a summary names (Kestra's `lastTask`), chosen as executionMap chooses it."""
    if not current:
        failed = any(run.state is State.FAILED for run in task_runs)
        wanted = State.FAILED if failed else State.SUCCESS
        task_runs = [run for run in task_runs if run.state is wanted]
    return task_runs[-1] if task_runs else None


def load_summary(ctx: TaskContext[Task], execution_id_value: Any, custom_message: Any,
                 custom_fields: Any) -> ExecutionSummary:
    """The summary of `executionId` (default: the current execution), custom parts rendered."""
    execution_id = (ctx.render_optional_str(execution_id_value, "executionId") or "").strip() \
        if execution_id_value is not None else ctx.execution_id
    if not execution_id:
        raise TaskFailure("property 'executionId' rendered empty: give an execution id, such as "
                          "\"{{ trigger.executionId }}\" under a Flow trigger")
    history = ctx.history
    if history is None:
        raise TaskFailure(f"task '{ctx.task_id}' reads the execution from history, and this run "
                          "keeps none (history is disabled)")
    current = execution_id == ctx.execution_id
    if current:
        ctx.info("Loading execution data for the current execution.")
    found = history.execution_record(execution_id)
    if found is None:
        raise TaskFailure(f"Unable to find execution '{execution_id}' (property 'executionId'; "
                          "`roost executions` lists the ones history holds)")
    execution, task_runs = found
    if current:
        task_runs = [run for run in task_runs if run.id != ctx.task_run_id]
    reported = reported_task(execution, task_runs, current)
    start = execution.start_date
    end = execution.end_date or utcnow()
    base = kestra_url(ctx)
    link = (f"{base.rstrip('/')}/ui/executions/{execution.namespace}/{execution.flow_id}/{execution.id}"
            if base else None)
    fields = ctx.render_map(custom_fields, "customFields") if custom_fields is not None else {}
    return ExecutionSummary(
        execution_id=execution.id, namespace=execution.namespace, flow_id=execution.flow_id,
        state=execution.state.value, start_date=start,
        duration=human_duration((end - start).total_seconds() if start is not None else 0.0),
        link=link,
        last_task_id=reported.task_id if reported is not None else None,
        failed_task_id=reported.task_id if reported is not None and reported.state is State.FAILED else None,
        custom_message=ctx.render_optional_str(custom_message, "customMessage"),
        custom_fields=fields,
    )
