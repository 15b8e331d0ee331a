"""Executions and task runs as immutable snapshots, in Kestra's JSON shape.

The executor replaces a snapshot on every change instead of mutating it, so an
event can hand the same object to the TUI, the CLI and the history writer
without copying and without races.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.core.states import State


def utcnow() -> datetime:
    return datetime.now(UTC)


EPOCH = datetime.min.replace(tzinfo=UTC)
"""Sorts before any real date (task runs that never started)."""


def iso(moment: datetime | None) -> str | None:
    """Kestra's instant format: UTC with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class StateEntry:
    state: State
    date: datetime


@dataclass(frozen=True)
class TaskRun:
    """One run of one task (for ForEach children: one per value)."""

    id: str
    execution_id: str
    task_id: str
    task_type: str
    parent_task_run_id: str | None = None
    value: str | None = None
    value_path: tuple[str, ...] = ()
    state: State = State.CREATED
    histories: tuple[StateEntry, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    runner: str | None = None
    working_dir: str | None = None
    metrics: tuple[dict[str, Any], ...] = ()
    mocked: bool = False      # a stand-in (a test's fixture) gave its state and outputs; it never ran

    @property
    def start_date(self) -> datetime | None:
        return self.histories[0].date if self.histories else None

    @property
    def end_date(self) -> datetime | None:
        if self.histories and self.state.is_terminal:
            return self.histories[-1].date
        return None

    def with_state(self, state: State, date: datetime | None = None) -> TaskRun:
        return dataclasses.replace(
            self, state=state, histories=(*self.histories, StateEntry(state, date or utcnow()))
        )

    def to_json(self) -> dict[str, Any]:
        """Kestra's TaskRun shape; ``"mocked": true`` only for a run a stand-in replaced."""
        data: dict[str, Any] = {
            "id": self.id,
            "executionId": self.execution_id,
            "taskId": self.task_id,
            "type": self.task_type,
            "parentTaskRunId": self.parent_task_run_id,
            "value": self.value,
            "state": _state_json(self.state, self.histories),
            "attempts": [{"state": {"current": self.state.value}}] * max(self.attempts, 0),
            "outputs": self.outputs,
            "metrics": list(self.metrics),
            "runner": self.runner,
            "workingDirectory": self.working_dir,
        }
        if self.mocked:
            data["mocked"] = True
        return data


@dataclass(frozen=True)
class Execution:
    """An execution's own fields; its task runs live beside it (see ExecutionRecord)."""

    id: str
    namespace: str
    flow_id: str
    state: State = State.CREATED
    histories: tuple[StateEntry, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    flow_path: str = ""
    original_id: str | None = None
    error: str | None = None

    @property
    def start_date(self) -> datetime | None:
        return self.histories[0].date if self.histories else None

    @property
    def end_date(self) -> datetime | None:
        if self.histories and self.state.is_terminal:
            return self.histories[-1].date
        return None

    def with_state(self, state: State, date: datetime | None = None) -> Execution:
        return dataclasses.replace(
            self, state=state, histories=(*self.histories, StateEntry(state, date or utcnow()))
        )

    def to_json(self, task_runs: list[TaskRun]) -> dict[str, Any]:
        return {
            "id": self.id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "state": _state_json(self.state, self.histories),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "labels": [{"key": k, "value": v} for k, v in self.labels.items()],
            "trigger": self.trigger,
            "originalId": self.original_id or self.id,
            "flowPath": self.flow_path,
            "error": self.error,
            "taskRunList": [tr.to_json() for tr in task_runs],
        }


def _state_json(state: State, histories: tuple[StateEntry, ...]) -> dict[str, Any]:
    start = histories[0].date if histories else None
    end = histories[-1].date if histories and state.is_terminal else None
    duration = (end - start).total_seconds() if start and end else None
    return {
        "current": state.value,
        "histories": [{"state": h.state.value, "date": iso(h.date)} for h in histories],
        "startDate": iso(start),
        "endDate": iso(end),
        "duration": duration,
    }
