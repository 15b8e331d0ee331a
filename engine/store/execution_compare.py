"""Two executions side by side: what differs between them (`roost compare`, the workbench).

Everything is read from history.db and internal storage, so any two recorded executions
compare, live ones included, and a replay against its original. Compared: inputs, the flow
as each ran it (a diff of the YAML when it changed), every task run (matched by task id and
ForEach value: state, running time, attempts), its rendered properties, its outputs (values;
files by size and hash, with a text or table diff), the flow's outputs, and what each
working-directory task changed in its directory.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.records import Execution, TaskRun
from engine.store.file_compare import FileDiff, compare_files
from engine.store.history import History, HistoryUnavailable
from engine.store.history_queries import HistoryQueries
from engine.store.storage import InternalStorage, StorageError

MISSING = object()
"""A key one side has and the other has not (shown as "—")."""


@dataclass(frozen=True)
class ValueChange:
    key: str
    left: Any
    right: Any

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "left": None if self.left is MISSING else self.left,
                "right": None if self.right is MISSING else self.right,
                "onlyLeft": self.right is MISSING, "onlyRight": self.left is MISSING}


@dataclass(frozen=True)
class TaskSide:
    state: str
    seconds: float | None
    attempts: int

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "seconds": self.seconds, "attempts": self.attempts}


@dataclass
class TaskComparison:
    """One task run (task id, ForEach value) in both executions."""

    key: str
    left: TaskSide | None
    right: TaskSide | None
    rendered: list[ValueChange] = field(default_factory=list)
    outputs: list[ValueChange] = field(default_factory=list)
    files: dict[str, FileDiff] = field(default_factory=dict)
    workdir: list[ValueChange] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.rendered or self.outputs or self.workdir
                    or any(not f.identical for f in self.files.values())
                    or self.left is None or self.right is None
                    or (self.left.state, self.left.attempts) != (self.right.state, self.right.attempts))

    def to_json(self) -> dict[str, Any]:
        return {"task": self.key, "left": self.left.to_json() if self.left else None,
                "right": self.right.to_json() if self.right else None, "differs": self.differs,
                "rendered": [c.to_json() for c in self.rendered],
                "outputs": [c.to_json() for c in self.outputs],
                "files": {name: diff.to_json() for name, diff in self.files.items()},
                "workdir": [c.to_json() for c in self.workdir]}


@dataclass
class CompareReport:
    left: Execution
    right: Execution
    inputs: list[ValueChange]
    flow_changed: bool | None  # None: a side's YAML was not recorded
    flow_diff: list[str]
    tasks: list[TaskComparison]
    flow_outputs: list[ValueChange]

    @property
    def replay_of(self) -> bool:
        return self.right.original_id == self.left.id or self.left.original_id == self.right.id

    def to_json(self) -> dict[str, Any]:
        def execution(e: Execution) -> dict[str, Any]:
            return {"id": e.id, "namespace": e.namespace, "flowId": e.flow_id, "state": e.state.value,
                    "startDate": e.start_date.isoformat() if e.start_date else None,
                    "originalId": e.original_id}

        return {"left": execution(self.left), "right": execution(self.right), "replay": self.replay_of,
                "inputs": [c.to_json() for c in self.inputs],
                "flow": {"changed": self.flow_changed, "diff": self.flow_diff},
                "tasks": [t.to_json() for t in self.tasks],
                "outputs": [c.to_json() for c in self.flow_outputs]}


def changes(left: Mapping[str, Any], right: Mapping[str, Any], prefix: str = "") -> list[ValueChange]:
    """Keys whose values differ, nested maps walked (`a.b`), in key order."""
    found: list[ValueChange] = []
    for key in sorted(set(left) | set(right), key=str):
        a, b = left.get(key, MISSING), right.get(key, MISSING)
        name = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            found.extend(changes(a, b, f"{name}."))
        elif _canonical(a) != _canonical(b):
            found.append(ValueChange(name, a, b))
    return found


def _canonical(value: Any) -> str:
    return "\0missing" if value is MISSING else json.dumps(value, sort_keys=True, default=str)


def compare_executions(history: History, storage: InternalStorage, left_id: str,
                       right_id: str) -> CompareReport:
    """Raises HistoryUnavailable naming an id that is not in the history."""
    left, right = history.get_execution(left_id), history.get_execution(right_id)
    for wanted, found in ((left_id, left), (right_id, right)):
        if found is None:
            raise HistoryUnavailable(f"no execution '{wanted}' in the history (see `roost executions`)")
    assert left is not None and right is not None
    queries = HistoryQueries(history, storage)
    sources = {e.id: queries.flow_source(e.id) for e in (left, right)}
    a, b = sources[left.id], sources[right.id]
    flow_changed = None if a is None or b is None else a != b
    flow_diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), f"{left.id}", f"{right.id}",
                                          lineterm="", n=2)) if flow_changed and a and b else []
    left_runs, right_runs = _by_key(history.task_runs(left.id)), _by_key(history.task_runs(right.id))
    left_files, right_files = history.task_files(left.id), history.task_files(right.id)
    tasks = []
    for key in list(dict.fromkeys([*left_runs, *right_runs])):
        one, other = left_runs.get(key), right_runs.get(key)
        comparison = TaskComparison(key, _side(one), _side(other))
        if one is not None and other is not None:
            comparison.rendered = changes(one.rendered, other.rendered)
            comparison.outputs, comparison.files = _outputs(storage, one.outputs, other.outputs)
            comparison.workdir = _workdir(left_files.get(one.id), right_files.get(other.id))
        tasks.append(comparison)
    return CompareReport(left, right, changes(left.inputs, right.inputs), flow_changed, flow_diff, tasks,
                         changes(left.outputs, right.outputs))


def _by_key(runs: list[TaskRun]) -> dict[str, TaskRun]:
    keyed: dict[str, TaskRun] = {}
    for run in runs:
        key = run.task_id if run.value is None else f"{run.task_id}[{run.value}]"
        keyed[key] = run  # a task run twice (a loop's passes): the last one
    return keyed


def _side(run: TaskRun | None) -> TaskSide | None:
    if run is None:
        return None
    return TaskSide(run.state.value, run.running_seconds(), run.attempts)


def _outputs(storage: InternalStorage, left: Mapping[str, Any],
             right: Mapping[str, Any]) -> tuple[list[ValueChange], dict[str, FileDiff]]:
    """Value changes, with storage files compared by content rather than by URI (a URI
    always differs: it names its execution)."""
    values: list[ValueChange] = []
    files: dict[str, FileDiff] = {}
    for change in changes(left, right):
        a, b = change.left, change.right
        if _is_file(storage, a) or _is_file(storage, b):
            name = str(b if isinstance(b, str) else a).rsplit("/", 1)[-1]
            diff = compare_files(name, _path(storage, a), _path(storage, b))
            files[change.key] = diff
        else:
            values.append(change)
    return values, files


def _is_file(storage: InternalStorage, value: Any) -> bool:
    return isinstance(value, str) and storage.is_uri(value)


def _path(storage: InternalStorage, value: Any) -> Any:
    if not _is_file(storage, value):
        return None
    try:
        return storage.open_existing(value)
    except StorageError:
        return None


def _workdir(left: Any, right: Any) -> list[ValueChange]:
    """Per path, what each task did to its working directory (added, modified, deleted)."""
    def kinds(record: Any) -> dict[str, str]:
        if record is None:
            return {}
        return {c.path: c.kind.value for c in record.changes.changes}

    return changes(kinds(left), kinds(right))
