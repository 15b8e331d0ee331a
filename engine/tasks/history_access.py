"""What tasks may ask of the execution history and of other executions: narrow protocols.

Kestra's execution and log tasks (Count, Fetch, the purges, Resume, Labels, Exit) reach
repositories and the executor through its application context; Roost's tasks reach only
these two protocols, exposed on the `TaskContext`. The history side is implemented by
`engine.store.history_queries.HistoryQueries`, the control side by the executor's
`RunTaskContext`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from engine.core.records import Execution, TaskRun
from engine.core.states import State
from engine.store.history import LogRecord
from engine.store.history_queries import (
    ExecutionCount,
    ExecutionFilter,
    FlowRef,
    LogFilter,
    PurgeCounts,
)


class ExecutionHistory(Protocol):
    """Reads and deletes in history.db, after what the run wrote so far is flushed."""

    def execution_flow(self, execution_id: str) -> tuple[str, str] | None:
        """(namespace, flowId) of an execution, or None when history has no such id."""
        ...

    def execution_record(self, execution_id: str) -> tuple[Execution, list[TaskRun]] | None:
        """An execution by its exact id with its task runs so far, or None when history has none."""
        ...

    def count_executions(self, flows: Sequence[FlowRef], namespaces: Sequence[str],
                         states: Sequence[str], start: datetime, end: datetime) -> list[ExecutionCount]: ...

    def purge_executions(self, selection: ExecutionFilter, *, executions: bool, logs: bool,
                         metrics: bool, storage: bool) -> PurgeCounts: ...

    def fetch_logs(self, execution_id: str, min_level: str,
                   task_ids: Sequence[str] | None) -> list[LogRecord]: ...

    def purge_logs(self, selection: LogFilter) -> int: ...


class ExecutionControl(Protocol):
    """Changes to this execution, or to another one running in this process."""

    def update_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """Merge labels into this execution's (history, `labels.x`, the record); all labels now."""
        ...

    def exit_execution(self, state: State) -> None:
        """End this execution in `state` once the calling task ends; no task starts after it."""
        ...

    def resume_execution(self, execution_id: str, inputs: Mapping[str, Any] | None, *,
                         namespace: str | None = None, flow_id: str | None = None) -> None:
        """Resume a paused execution, of that flow when given (raises TaskFailure saying why not)."""
        ...
