"""Turns task maps from YAML into typed task objects, collecting every mistake with its position."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.durations import DurationError, parse_duration
from engine.core.errors import FlowError
from engine.core.yaml_source import Position, YamlList, YamlMap
from engine.flow.plugin_defaults import apply_plugin_defaults
from engine.tasks import registry
from engine.tasks.base import Task
from engine.tasks.dag import DagNode
from engine.tasks.properties import Kind, PropSpec, property_specs
from engine.tasks.unavailable import UnavailableTask, unknown_type_problem

TASK_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
MAX_TASK_ID_LENGTH = 256  # Kestra's Task.id @Size
_TEMPLATE_MARKERS = ("{{", "{%")


def is_template(value: Any) -> bool:
    return isinstance(value, str) and any(m in value for m in _TEMPLATE_MARKERS)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    return "null" if value is None else type(value).__name__


class TaskBuilder:
    """Builds tasks for one flow file; errors accumulate instead of stopping at the first."""

    def __init__(self, path: str, plugin_defaults: Iterable[Mapping[str, Any]]) -> None:
        self.path = path
        self.plugin_defaults = list(plugin_defaults)
        self.errors: list[FlowError] = []
        self.warnings: list[str] = []

    def error(self, position: Position, message: str) -> None:
        self.errors.append(FlowError(self.path, position.line, position.column, message))

    def build_list(self, raw: Any, position: Position, where: str) -> list[Task]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(position, f"{where} must be a list of tasks, not {_describe(raw)}")
            return []
        tasks: list[Task] = []
        for index, item in enumerate(raw):
            item_position = raw.position_of(index) if isinstance(raw, YamlList) else position
            task = self.build(item, item_position)
            if task is not None:
                tasks.append(task)
        return tasks

    def build(self, raw: Any, position: Position) -> Task | None:
        if not isinstance(raw, YamlMap):
            self.error(position, f"a task must be a map with 'id' and 'type', not {_describe(raw)}")
            return None
        errors_before = len(self.errors)
        raw = apply_plugin_defaults(raw, self.plugin_defaults)
        task_id = raw.get("id")
        if not isinstance(task_id, str) or not task_id:
            self.error(raw.position, "task has no 'id': every task needs a unique id")
            task_id = None
        elif not TASK_ID_PATTERN.fullmatch(task_id):
            self.error(raw.position_of("id"),
                       f"task id '{task_id}' is invalid: use letters, digits, '_' and '-' "
                       "(pattern ^[a-zA-Z0-9][a-zA-Z0-9_-]*)")
        elif len(task_id) > MAX_TASK_ID_LENGTH:
            self.error(raw.position_of("id"), f"Task id must be at most {MAX_TASK_ID_LENGTH} characters "
                                              f"(this one has {len(task_id)})")
        type_name = raw.get("type")
        label = f"task '{task_id}'" if task_id else "task"
        if not isinstance(type_name, str) or not type_name:
            self.error(raw.position, f"{label} has no 'type'")
            return None
        cls = registry.lookup(type_name)
        unchecked: dict[str, Any] | None = None
        if cls is None:
            problem = unknown_type_problem(type_name)
            if problem is not None:
                self.error(raw.position_of("type"), f"{label}: {problem}")
                return None
            cls, unchecked = UnavailableTask, {}  # a plugin Roost lacks: loads, runs mocked
        if cls.DEPRECATION:
            self.warnings.append(f"{self.path}:{raw.position.line}:{raw.position.column}: "
                                 f"{label}: {cls.DEPRECATION}")
        values = self._read_properties(cls, raw, label, unchecked)
        if values is None:
            return None
        if unchecked is not None:
            values["properties"] = unchecked
        try:
            task = cls(**values, source=raw, source_path=self.path)
        except (TypeError, ValueError) as exc:
            self.error(raw.position, f"{label}: {exc}")
            return None
        if len(self.errors) > errors_before:
            # A refused child is missing from the lists `validate` sees ("'tasks' must not be
            # empty"): the child's own error says it all.
            return task
        for where, message in task.validate():
            if isinstance(where, Position):
                position = where
            else:
                position = raw.position_of(where) if where else raw.position
            self.error(position, f"{label}: {message}")
        return task

    def _read_properties(self, cls: type[Task], raw: YamlMap, label: str,
                         unchecked: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The declared properties, converted; `unchecked` (an unavailable task's) takes the
        others as written instead of refusing them."""
        specs = property_specs(cls)
        values: dict[str, Any] = {}
        ok = True
        for key in raw:
            if key not in specs and unchecked is not None:
                unchecked[key] = raw[key]
            elif key not in specs:
                close = difflib.get_close_matches(key, list(specs), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.error(raw.key_position(key),
                           f"{label}: unknown property '{key}' for type {cls.TYPES[0]}{hint}")
                ok = False
        for yaml_name, (attr, spec) in specs.items():
            if yaml_name not in raw or raw[yaml_name] is None:
                if spec.required and yaml_name not in ("id", "type"):  # build() reported those
                    self.error(raw.position, f"{label}: missing required property '{yaml_name}'")
                    ok = False
                continue
            converted = self._convert(spec, raw[yaml_name], raw.position_of(yaml_name), label)
            if converted is _INVALID:
                ok = False
                continue
            if spec.deprecated:
                self.warnings.append(f"{self.path}:{raw.position_of(yaml_name).line}: {label}: "
                                     f"'{yaml_name}' {spec.deprecated}")
            values[attr] = converted
        return values if ok else None

    def _convert(self, spec: PropSpec, value: Any, position: Position, label: str) -> Any:
        kind = spec.kind
        if kind is Kind.TASKS:
            return self.build_list(value, position, f"{label}: '{spec.yaml_name}'")
        if kind is Kind.MAP_OF_TASKS:
            if not isinstance(value, YamlMap):
                self.error(position, f"{label}: '{spec.yaml_name}' must be a map of task lists")
                return _INVALID
            return {str(k): self.build_list(v, value.position_of(k), f"{label}: case '{k}'")
                    for k, v in value.items()}
        if kind is Kind.DEPENDENT_TASKS:
            return self._build_dag_nodes(value, position, f"{label}: '{spec.yaml_name}'")
        if spec.dynamic and is_template(value):
            return value
        problem = _kind_problem(kind, value)
        if problem is not None:
            self.error(position, f"{label}: '{spec.yaml_name}' must be {kind.value}, {problem}")
            return _INVALID
        if kind is Kind.INT and isinstance(value, str):
            return int(value)
        if kind is Kind.NUMBER and isinstance(value, str):
            return float(value)
        if kind is Kind.BOOL and isinstance(value, str):
            return value.lower() == "true"
        return value

    def _build_dag_nodes(self, raw: Any, position: Position, where: str) -> Any:
        """A Dag's `tasks`: each item a map of `task` (a task) and `dependsOn` (task ids)."""
        if not isinstance(raw, YamlList):
            self.error(position, f"{where} must be a list of {{task, dependsOn}} items, not {_describe(raw)}")
            return _INVALID
        nodes: list[DagNode] = []
        for index, item in enumerate(raw):
            item_position = raw.position_of(index)
            if not isinstance(item, YamlMap) or "task" not in item:
                self.error(item_position, f"{where}: item {index + 1} needs a 'task' (and may have 'dependsOn')")
                continue
            for key in item:
                if key not in ("task", "dependsOn"):
                    self.error(item.key_position(key), f"{where}: unknown key '{key}' (only 'task' and 'dependsOn')")
            depends = item.get("dependsOn") or []
            if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
                self.error(item.position_of("dependsOn"), f"{where}: 'dependsOn' must be a list of task ids")
                depends = []
            task = self.build(item["task"], item.position_of("task"))
            if task is not None:
                nodes.append(DagNode(task, tuple(depends), item_position))
        return nodes


_INVALID = object()


def _kind_problem(kind: Kind, value: Any) -> str | None:
    """Why a literal value does not fit its kind, or None when it fits."""
    got = f"not {_describe(value)}"
    if kind is Kind.ANY:
        return None
    if kind is Kind.STRING:
        return None if isinstance(value, str | int | float | bool) else got
    if kind is Kind.INT:
        if isinstance(value, bool):
            return got
        if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
            return None
        return got if not isinstance(value, str) else f"not '{value}'"
    if kind is Kind.NUMBER:
        if isinstance(value, bool):
            return got
        if isinstance(value, int | float):
            return None
        try:
            float(value)
            return None
        except (TypeError, ValueError):
            return got
    if kind is Kind.BOOL:
        if isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false")):
            return None
        return got
    if kind is Kind.DURATION:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return got
        try:
            parse_duration(value)
            return None
        except DurationError:
            return f"not '{value}'"
    if kind is Kind.LIST:
        return None if isinstance(value, list) else got
    if kind is Kind.MAP:
        return None if isinstance(value, dict) else got
    if kind is Kind.STRING_LIST:
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return None
        return got if not isinstance(value, list) else "and every item must be a string"
    if kind is Kind.LIST_OR_STRING:
        return None if isinstance(value, list | str) else got
    if kind is Kind.MAP_OR_STRING:
        return None if isinstance(value, dict | str) else got
    return None
