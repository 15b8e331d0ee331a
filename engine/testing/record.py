"""`roost test record ID`: a TestSuite written from one finished execution, a regression test.

The execution's inputs become `fixtures.inputs`; the chosen tasks' recorded state and
outputs become task fixtures (they will not run); the flow's outputs and every other task's
outputs become `equalTo` assertions on what was observed. Files the execution read or made
(`kestra:///` URIs of that execution, which another execution may not read) become `files`
fixtures when they are text. Values that cannot be replayed are left out, each with a note:
masked secrets, binary files, values naming the old execution's id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.core.errors import InvalidFlowError, UsageError
from engine.core.records import Execution, TaskRun
from engine.core.states import State
from engine.flow.loader import load_flow
from engine.flow.model import Flow
from engine.store.history import History
from engine.store.secrets import MASK
from engine.store.storage import InternalStorage, StorageError
from engine.testing.suite import UNIT_TEST_TYPE

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RecordedSuite:
    """The suite's YAML text, what it holds, and what was left out (and why)."""

    text: str
    suite_id: str
    case_id: str
    fixtures: int          # task fixtures
    assertions: int
    notes: tuple[str, ...] = ()


def record_suite(history: History, storage: InternalStorage, execution_id: str,
                 tasks: Sequence[str] = ()) -> RecordedSuite:
    """A suite for the execution's flow from what it did; raises UsageError (unknown id, a task
    the execution did not run, an execution not finished)."""
    execution = history.get_execution(execution_id)
    if execution is None:
        raise UsageError(f"no execution '{execution_id}' in the history (see `roost executions --all`)")
    if not execution.state.is_terminal:
        raise UsageError(f"execution {execution.id} is {execution.state.value}: record it once it has ended")
    task_runs = history.task_runs(execution.id)
    ran = sorted({run.task_id for run in task_runs})
    for task_id in tasks:
        if task_id not in ran:
            raise UsageError(f"--tasks {task_id}: execution {execution.id} has no run of '{task_id}' "
                             f"(its tasks: {', '.join(ran)})")
    return _Recorder(execution, task_runs, set(tasks), storage, _flow_of(execution)).record()


def _flow_of(execution: Execution) -> Flow | None:
    if not execution.flow_path or not Path(execution.flow_path).is_file():
        return None
    try:
        return load_flow(execution.flow_path)
    except InvalidFlowError:
        return None


class _Recorder:
    def __init__(self, execution: Execution, task_runs: list[TaskRun], chosen: set[str],
                 storage: InternalStorage, flow: Flow | None) -> None:
        self.execution = execution
        self.task_runs = task_runs
        self.chosen = chosen
        self.storage = storage
        self.flow = flow
        self.files: dict[str, str] = {}
        self.notes: list[str] = []

    def record(self) -> RecordedSuite:
        execution = self.execution
        inputs = self._inputs()
        fixtures = [self._task_fixture(run) for run in self.task_runs if run.task_id in self.chosen]
        assertions = self._assertions()
        trigger = self._trigger()
        suite_id = _safe_id(f"{execution.flow_id}-recorded")
        case_id = _safe_id(f"recorded-{execution.id[:8]}")
        fixture_map: dict[str, Any] = {}
        if inputs:
            fixture_map["inputs"] = inputs
        if self.files:
            fixture_map["files"] = self.files
        if fixtures:
            fixture_map["tasks"] = fixtures
        if trigger:
            fixture_map["trigger"] = trigger
        case: dict[str, Any] = {
            "id": case_id, "type": UNIT_TEST_TYPE,
            "description": f"what execution {execution.id} did ({execution.state.value})",
        }
        if fixture_map:
            case["fixtures"] = fixture_map
        case["assertions"] = assertions
        document = {"id": suite_id, "namespace": execution.namespace, "flowId": execution.flow_id,
                    "description": f"Recorded by `roost test record {execution.id}`", "testCases": [case]}
        header = "".join(f"# note: {note}\n" for note in self.notes)
        text = header + yaml.dump(document, Dumper=_SuiteDumper, sort_keys=False, allow_unicode=True,
                                  default_flow_style=False, width=100)
        return RecordedSuite(text, suite_id, case_id, len(fixtures), len(assertions), tuple(self.notes))

    # --- fixtures --------------------------------------------------------------------
    def _inputs(self) -> dict[str, Any]:
        values = self.execution.inputs
        if self.flow is not None:  # ids with dots are nested in the execution: look them up
            pairs = [(d.id, _nested(values, d.id)) for d in self.flow.inputs]
        else:
            pairs = list(values.items())
        inputs: dict[str, Any] = {}
        for input_id, value in pairs:
            if value is None:
                continue
            if _masked(value):
                self.notes.append(f"input '{input_id}' is a secret, masked in the history: give its value")
                continue
            inputs[input_id] = self._portable(value, f"input-{input_id}")
        return inputs

    def _task_fixture(self, run: TaskRun) -> dict[str, Any]:
        fixture: dict[str, Any] = {"id": run.task_id}
        if run.value is not None:
            fixture["value"] = run.value
        if run.state is not State.SUCCESS:
            fixture["state"] = run.state.value
        if run.outputs:
            fixture["outputs"] = self._portable(run.outputs, run.task_id)
        return fixture

    def _trigger(self) -> dict[str, Any] | None:
        variables = self.execution.trigger
        if not variables:
            return None
        triggers = self.flow.triggers if self.flow is not None else []
        first = triggers[0] if triggers else {"id": "recorded", "type": "io.kestra.plugin.core.trigger.Webhook"}
        return {"id": str(first["id"]), "type": str(first["type"]),
                "variables": self._portable(dict(variables), "trigger")}

    def _portable(self, value: Any, owner: str) -> Any:
        """The value with this execution's storage files turned into `files` fixtures."""
        if isinstance(value, dict):
            return {key: self._portable(item, owner) for key, item in value.items()}
        if isinstance(value, list):
            return [self._portable(item, owner) for item in value]
        if isinstance(value, str) and self.storage.is_uri(value):
            return self._file_fixture(value, owner)
        return value

    def _file_fixture(self, uri: str, owner: str) -> str:
        try:
            data = self.storage.read_bytes(uri)
            text = data.decode("utf-8")
        except (StorageError, OSError):
            self.notes.append(f"{uri} is no longer in storage: kept as is, the test cannot read it")
            return uri
        except UnicodeDecodeError:
            self.notes.append(f"{uri} is not text: kept as is, the test cannot read it")
            return uri
        name = _safe_file_name(f"{owner}-{uri.rsplit('/', 1)[-1]}")
        base, counter = name, 1
        while name in self.files and self.files[name] != text:
            counter += 1
            name = f"{counter}-{base}"
        self.files[name] = text
        return f"{{{{ files['{name}'] }}}}"

    # --- assertions ------------------------------------------------------------------
    def _assertions(self) -> list[dict[str, Any]]:
        assertions: list[dict[str, Any]] = []
        for path, value in _leaves(self.execution.outputs, ()):
            assertion = self._assertion("execution.outputs" + _path(path), value, None)
            if assertion is not None:
                assertions.append(assertion)
        under_fixture = self._runs_under_chosen()
        for run in self.task_runs:
            if (run.task_id in self.chosen or run.id in under_fixture or run.mocked
                    or run.state not in (State.SUCCESS, State.WARNING) or not run.outputs):
                continue
            prefix = "outputs" + _path((run.task_id, *run.value_path))
            for path, value in _leaves(run.outputs, ()):
                assertion = self._assertion(prefix + _path(path), value, run.task_id)
                if assertion is not None:
                    assertions.append(assertion)
        return assertions

    def _assertion(self, expression: str, value: Any, task_id: str | None) -> dict[str, Any] | None:
        shown = f"{{{{ {expression} }}}}"
        if isinstance(value, str) and self.storage.is_uri(value):
            return None  # a file of this execution: the next one's URI differs
        if _masked(value):
            self.notes.append(f"{shown} holds a masked secret: no assertion on it")
            return None
        if isinstance(value, str) and self.execution.id in value:
            self.notes.append(f"{shown} names execution {self.execution.id}: no assertion on it")
            return None
        assertion: dict[str, Any] = {"value": shown}
        if task_id is not None:
            assertion["taskId"] = task_id
        if value is None:
            assertion["isNull"] = True
        else:
            assertion["equalTo"] = value
        return assertion

    def _runs_under_chosen(self) -> set[str]:
        """Task runs inside a chosen (mocked) flowable task: they will not run in the test."""
        by_id = {run.id: run for run in self.task_runs}
        inside: set[str] = set()
        for run in self.task_runs:
            parent = by_id.get(run.parent_task_run_id or "")
            while parent is not None:
                if parent.task_id in self.chosen:
                    inside.add(run.id)
                    break
                parent = by_id.get(parent.parent_task_run_id or "")
        return inside


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every leaf of nested maps; lists and scalars are leaves."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif path:
        yield path, value


def _path(parts: Sequence[str]) -> str:
    """`.a.b`, or `['a-b']` for a part that is not an identifier (Pebble's subscript)."""
    return "".join(f".{part}" if _IDENTIFIER.match(part) else "['" + part.replace("'", "\\'") + "']"
                   for part in parts)


def _nested(values: Mapping[str, Any], dotted: str) -> Any:
    if dotted in values:
        return values[dotted]
    node: Any = values
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _masked(value: Any) -> bool:
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, dict):
        return any(_masked(item) for item in value.values())
    if isinstance(value, list):
        return any(_masked(item) for item in value)
    return False


def _safe_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", text)
    return cleaned if cleaned[:1].isalnum() else f"s{cleaned}"


def _safe_file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip(".") or "file"


# --- YAML that Roost's loader (YAML 1.2 core) reads back exactly -----------------------------
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ./-]*[A-Za-z0-9_./-]$|^[A-Za-z_]$")
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


class _SuiteDumper(yaml.SafeDumper):
    """Quotes every string a YAML reader could take for something else; never writes aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    plain = bool(_PLAIN.match(data)) and data.lower() not in _WORDS
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=None if plain else '"')


_SuiteDumper.add_representer(str, _represent_text)
