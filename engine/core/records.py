"""Executions and task runs as immutable snapshots, in Kestra's JSON shape.

The executor replaces a snapshot on every change instead of mutating it, so an
event can hand the same object to the TUI, the CLI and the history writer
without copying and without races.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    # isoformat() is several times faster than strftime (history writes three per task run);
    # cut to milliseconds (truncated, as `%f`[:-3] was), years below 1000 padded to four digits.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    text = moment.isoformat()  # ...THH:MM:SS[.ffffff]+00:00: no fraction when it is zero
    return text[:23] + "Z" if moment.microsecond else text[:19] + ".000Z"


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def evolve(record: Any, changes: dict[str, Any]) -> Any:
    """`dataclasses.replace` for these records without its per-field walk (a task run changes
    five times per run): a new instance with the same attributes and `changes` over them.
    The records have no `__post_init__` and no init=False fields, so nothing is skipped."""
    fields = _FIELD_NAMES.get(type(record))
    if fields is None:
        fields = _FIELD_NAMES[type(record)] = frozenset(f.name for f in dataclasses.fields(record))
    if not fields.issuperset(changes):
        unknown = ", ".join(sorted(set(changes) - fields))
        raise TypeError(f"{type(record).__name__} has no field {unknown}")
    new = object.__new__(type(record))
    attributes = new.__dict__
    attributes.update(record.__dict__)
    attributes.update(changes)
    return new


_FIELD_NAMES: dict[type, frozenset[str]] = {}


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
    iteration: int | None = None   # WaitFor/LoopUntil children: which pass of the loop (1, 2...)
    paused_seconds: float = 0.0    # time it waited at a breakpoint or step (not running time)
    rendered: dict[str, Any] = field(default_factory=dict, compare=False)
    """Its templated properties as rendered for this run, masked (what `roost compare` compares)."""

    @property
    def start_date(self) -> datetime | None:
        return self.histories[0].date if self.histories else None

    @property
    def end_date(self) -> datetime | None:
        if self.histories and self.state.is_terminal:
            return self.histories[-1].date
        return None

    def with_state(self, state: State, date: datetime | None = None, **changes: Any) -> TaskRun:
        """This run in `state` from `date` (now), with `changes` to other fields in the same copy."""
        changes["state"] = state
        changes["histories"] = (*self.histories, StateEntry(state, date or utcnow()))
        return evolve(self, changes)  # type: ignore[no-any-return]

    def running_seconds(self, now: datetime | None = None) -> float | None:
        """Start to end (or ``now``) less the time it waited at a breakpoint: what the task
        itself took (None before it starts, or still running without ``now``)."""
        start, end = self.start_date, self.end_date or now
        if start is None or end is None:
            return None
        return max(0.0, (end - start).total_seconds() - self.paused_seconds)

    def without_pauses(self) -> TaskRun:
        """This run as if it never waited at a breakpoint (what a replay copies): the PAUSED
        entries dropped and the later ones moved back by the time paused, so its duration
        is its running time."""
        if not self.paused_seconds:
            return self
        paused = timedelta(seconds=self.paused_seconds)
        entries: list[StateEntry] = []
        seen_pause = False
        for entry in self.histories:
            if entry.state is State.PAUSED:
                seen_pause = True
                continue
            entries.append(StateEntry(entry.state, entry.date - paused) if seen_pause else entry)
        return dataclasses.replace(self, histories=tuple(entries), paused_seconds=0.0)

    def to_json(self) -> dict[str, Any]:
        """Kestra's TaskRun shape; ``"mocked": true`` only for a run a stand-in replaced, and
        ``"pausedSeconds"`` (Roost's) only for one that waited at a breakpoint."""
        data: dict[str, Any] = {
            "id": self.id,
            "executionId": self.execution_id,
            "taskId": self.task_id,
            "type": self.task_type,
            "parentTaskRunId": self.parent_task_run_id,
            "value": self.value,
            "state": _state_json(self.state, self.histories),
            "attempts": self._attempts_json(),
            "outputs": self.outputs,
            "metrics": list(self.metrics),
            "runner": self.runner,
            "workingDirectory": self.working_dir,
        }
        if self.mocked:
            data["mocked"] = True
        if self.iteration is not None:
            data["iteration"] = self.iteration
        if self.paused_seconds:
            data["pausedSeconds"] = round(self.paused_seconds, 3)
        return data

    def _attempts_json(self) -> list[dict[str, Any]]:
        """Kestra's attempts: every one before the last failed (that is why there was another)."""
        count = max(self.attempts, 0)
        if count == 0:
            return []
        last = self.state.value if self.state.is_terminal else State.FAILED.value
        return [{"state": {"current": State.FAILED.value}}] * (count - 1) + [{"state": {"current": last}}]


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
    flow_source: str | None = field(default=None, repr=False, compare=False)
    """The flow's YAML as this execution ran it (kept once per distinct text in history.db)."""
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

    def with_state(self, state: State, date: datetime | None = None, **changes: Any) -> Execution:
        """This execution in `state` from `date` (now), with `changes` to other fields in the same copy."""
        changes["state"] = state
        changes["histories"] = (*self.histories, StateEntry(state, date or utcnow()))
        return evolve(self, changes)  # type: ignore[no-any-return]

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
