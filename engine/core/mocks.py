"""Mocks: what stands in for a task that cannot (or should not) run locally.

Three sources give them, all turned into the executor's task stand-ins (see
engine/execution/mock_plan.py): roost.toml's ``[[mocks]]`` tables, ``roost run --mock``, and
the workbench's "save as mock". As with Kestra's test fixtures, a mock without outputs makes
the task SUCCESS with no outputs. This module only reads and writes them; it runs nothing.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import UsageError
from engine.core.states import TERMINAL_STATES, State

_STATES = ", ".join(sorted(s.value for s in TERMINAL_STATES))


@dataclass(frozen=True)
class MockSpec:
    """One mock: by task id (`task`) or by a glob on the task type (`type`)."""

    task: str | None = None
    type: str | None = None
    flow: str | None = None
    """`namespace.id`: the mock applies to that flow only (None: every flow)."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    state: State = State.SUCCESS
    origin: str = ""
    """Where it was given (roost.toml's path, `--mock`), for messages."""

    def applies_to_flow(self, flow_key: str) -> bool:
        return self.flow is None or self.flow == flow_key

    def matches_type(self, type_name: str) -> bool:
        return self.type is not None and fnmatch.fnmatchcase(type_name, self.type)


def parse_state(value: Any, where: str) -> State:
    try:
        state = State(str(value).upper())
    except ValueError:
        state = State.CREATED
    if state not in TERMINAL_STATES:
        raise UsageError(f"{where}: state '{value}' is not one of {_STATES}")
    return state


def mocks_from_toml(entries: Any, path: Path) -> tuple[MockSpec, ...]:
    """roost.toml's ``[[mocks]]``: each with `task` or `type`, optional `flow`, `outputs`, `state`."""
    if not isinstance(entries, list):
        raise UsageError(f"{path}: mocks must be [[mocks]] tables")
    mocks: list[MockSpec] = []
    for index, entry in enumerate(entries, 1):
        where = f"{path}: [[mocks]] #{index}"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} must be a table")
        unknown = sorted(set(entry) - {"task", "type", "flow", "outputs", "state"})
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)} (task, type, flow, "
                             "outputs, state)")
        task, type_glob = entry.get("task"), entry.get("type")
        if (task is None) == (type_glob is None):
            raise UsageError(f"{where} needs either task = \"TASK_ID\" or type = \"GLOB\"")
        for key in ("task", "type", "flow"):
            if key in entry and not isinstance(entry[key], str):
                raise UsageError(f"{where}: {key} must be a string")
        outputs = entry.get("outputs", {})
        if not isinstance(outputs, dict):
            raise UsageError(f"{where}: outputs must be a table, e.g. outputs = {{ rows = 3 }}")
        mocks.append(MockSpec(task=task, type=type_glob, flow=entry.get("flow"), outputs=outputs,
                              state=parse_state(entry.get("state", "SUCCESS"), where),
                              origin=str(path)))
    return tuple(mocks)


def mock_from_option(option: str) -> MockSpec:
    """``--mock TASK_ID=FILE.json``, ``--mock TASK_ID='{"k": 1}'`` or ``--mock TASK_ID`` (no outputs)."""
    task_id, sep, value = option.partition("=")
    task_id = task_id.strip()
    if not task_id:
        raise UsageError(f"--mock '{option}' must look like TASK_ID=FILE.json or TASK_ID='{{...}}'")
    if not sep or not value.strip():
        return MockSpec(task=task_id, origin="--mock")
    text = value.strip()
    where = f"--mock {task_id}"
    if not text.startswith("{"):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{where}: cannot read {value} ({exc.strerror}); give a JSON file "
                             "or an inline JSON object") from None
        where = f"--mock {task_id}={value}"
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(outputs, dict):
        raise UsageError(f"{where}: the outputs must be a JSON object, e.g. '{{\"rows\": 3}}'")
    return MockSpec(task=task_id, outputs=outputs, origin="--mock")


# --- writing a mock into roost.toml --------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any, where: str = "outputs") -> str:
    """A JSON value as TOML (inline tables and arrays); TOML has no null, so None is refused."""
    if value is None:
        raise ValueError(f"{where} is null, which roost.toml (TOML) cannot hold")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which TOML cannot hold")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (\uXXXX escapes)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    if isinstance(value, Mapping):
        items = [f"{toml_key(k)} = {toml_value(v, f'{where}.{k}')}" for k, v in value.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise ValueError(f"{where} is a {type(value).__name__}, which TOML cannot hold")


def toml_key(key: Any) -> str:
    text = str(key)
    return text if _BARE_KEY.match(text) else json.dumps(text)


def mock_table(mock: MockSpec) -> str:
    """The ``[[mocks]]`` table for one mock (raises ValueError for values TOML cannot hold)."""
    lines = ["[[mocks]]"]
    if mock.flow is not None:
        lines.append(f"flow = {toml_value(mock.flow)}")
    if mock.task is not None:
        lines.append(f"task = {toml_value(mock.task)}")
    if mock.type is not None:
        lines.append(f"type = {toml_value(mock.type)}")
    lines.append(f"state = \"{mock.state.value}\"")
    lines.append(f"outputs = {toml_value(dict(mock.outputs))}")
    return "\n".join(lines) + "\n"


def append_mock(config_path: Path, mock: MockSpec) -> None:
    """Add a ``[[mocks]]`` table at the end of roost.toml, creating the file if missing and
    keeping every other line as it was. Raises ValueError (a value TOML cannot hold) or OSError."""
    table = mock_table(mock)
    existing = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    separator = "" if not existing else ("\n" if existing.endswith("\n") else "\n\n")
    with config_path.open("a", encoding="utf-8") as out:
        out.write(separator + table)
