"""Loading a flow file: YAML with positions, Kestra's validation rules, typed tasks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.core.errors import FlowError, InvalidFlowError
from engine.core.yaml_source import Position, YamlList, YamlMap, load_yaml
from engine.flow import kestra_checks
from engine.flow.model import Flow, FlowOutput
from engine.flow.subflow_graph import self_call_errors
from engine.flow.task_builder import TaskBuilder
from engine.tasks.base import Task

FLOW_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_TASK_DEPTH = 64

FLOW_KEYS = (
    "id", "namespace", "description", "labels", "inputs", "variables", "tasks", "errors",
    "finally", "afterExecution", "outputs", "triggers", "pluginDefaults", "taskDefaults",
    "disabled", "concurrency", "retry", "revision", "deleted", "listeners", "workerGroup",
    "sla", "checks",
)


def load_flow(path: str | Path, extra_plugin_defaults: Iterable[Mapping[str, Any]] = ()) -> Flow:
    """Load and validate one flow file; raises InvalidFlowError listing every problem."""
    file_path = Path(path)
    try:
        data = file_path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise InvalidFlowError([FlowError(str(path), 1, 1, "file not found")]) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InvalidFlowError([FlowError(
            str(path), line, column,
            f"file is not UTF-8 text: byte 0x{data[exc.start]:02X} here ({exc.reason}); save it as UTF-8")]
        ) from None
    except IsADirectoryError:
        raise InvalidFlowError([FlowError(str(path), 1, 1, "this is a folder, not a flow file")]) from None
    except OSError as exc:
        raise InvalidFlowError([FlowError(str(path), 1, 1, f"cannot read file: {exc.strerror}")]) from None
    return load_flow_text(text, str(path), extra_plugin_defaults)


def load_flow_text(
    text: str, path: str = "<flow>", extra_plugin_defaults: Iterable[Mapping[str, Any]] = ()
) -> Flow:
    """Load and validate a flow from its YAML text."""
    raw = load_yaml(text, path)
    if not isinstance(raw, YamlMap):
        got = "an empty file" if raw is None else "not a map"
        raise InvalidFlowError([FlowError(path, 1, 1, f"a flow must be a YAML map with id, namespace and tasks; this is {got}")])
    return _FlowReader(raw, text, path, list(extra_plugin_defaults)).read()


class _FlowReader:
    def __init__(self, raw: YamlMap, text: str, path: str, extra_defaults: list[Mapping[str, Any]]) -> None:
        self.raw = raw
        self.text = text
        self.path = path
        self.errors: list[FlowError] = []
        self.extra_defaults = extra_defaults

    def error(self, position: Position, message: str) -> None:
        self.errors.append(FlowError(self.path, position.line, position.column, message))

    def read(self) -> Flow:
        raw = self.raw
        for key in raw:
            if key not in FLOW_KEYS:
                close = difflib.get_close_matches(key, FLOW_KEYS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                self.error(raw.key_position(key), f"unknown flow property '{key}'{hint}")
        flow_id = self._identifier("id", FLOW_ID_PATTERN, "flow id",
                                   "letters, digits, '.', '_' and '-'", 100)
        namespace = self._identifier("namespace", NAMESPACE_PATTERN, "namespace",
                                     "lowercase letters, digits, '.', '_' and '-'", 150)
        plugin_defaults = self._plugin_defaults()
        builder = TaskBuilder(self.path, [*plugin_defaults, *self.extra_defaults])
        tasks_raw = raw.get("tasks")
        if tasks_raw is None or (isinstance(tasks_raw, list) and not tasks_raw):
            self.error(raw.position_of("tasks") if "tasks" in raw else raw.position,
                       "a flow needs a non-empty 'tasks' list")
        tasks = builder.build_list(tasks_raw, raw.position_of("tasks"), "'tasks'")
        errors = builder.build_list(raw.get("errors"), raw.position_of("errors"), "'errors'")
        finally_ = builder.build_list(raw.get("finally"), raw.position_of("finally"), "'finally'")
        listener_tasks = kestra_checks.walk(kestra_checks.read_listeners(raw, builder, self.error))
        self.errors.extend(builder.errors)
        flow = Flow(
            id=flow_id, namespace=namespace, tasks=tasks, errors=errors, finally_=finally_,
            description=self._optional(str, "description"),
            labels=self._labels(),
            inputs=self._inputs(),
            variables=self._optional(dict, "variables") or {},
            outputs=self._outputs(),
            triggers=self._triggers(),
            plugin_defaults=plugin_defaults,
            disabled=bool(self._optional(bool, "disabled")),
            concurrency=self._optional(dict, "concurrency"),
            retry=self._optional(dict, "retry"),
            path=self.path, text=self.text, raw=raw, warnings=builder.warnings,
        )
        self._check_unique_task_ids(flow, listener_tasks)
        self._check_nesting_depth(flow)
        self._check_kestra_rules(flow, listener_tasks)
        self.errors.extend(self_call_errors(flow))
        if self.errors:
            raise InvalidFlowError(self.errors)
        return flow

    def _identifier(self, key: str, pattern: re.Pattern[str], what: str, allowed: str,
                    max_length: int) -> str:
        value = self.raw.get(key)
        if value is None:
            self.error(self.raw.position, f"missing required property '{key}'")
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # Jackson reads `id: 2024` as the text "2024"
        if not isinstance(value, str):
            kind = "a list" if isinstance(value, list) else "a map" if isinstance(value, dict) else "a boolean"
            self.error(self.raw.position_of(key), f"{what} must be a string, not {kind}")
            return str(value)
        if not pattern.fullmatch(value):
            self.error(self.raw.position_of(key),
                       f"{what} '{value}' is invalid: use {allowed} (pattern {pattern.pattern})")
            return str(value)
        if len(value) > max_length:  # Kestra's @Size; it also keeps directory names within limits
            self.error(self.raw.position_of(key),
                       f"{what} must be at most {max_length} characters (this one has {len(value)})")
        return value

    def _optional(self, kind: type, key: str) -> Any:
        value = self.raw.get(key)
        if value is None:
            return None
        if kind is str and isinstance(value, int | float | bool):
            return str(value)
        if not isinstance(value, kind):
            names = {str: "a string", dict: "a map", bool: "a boolean", list: "a list"}
            self.error(self.raw.position_of(key), f"'{key}' must be {names[kind]}")
            return None
        return value

    def _labels(self) -> dict[str, str]:
        value = self.raw.get("labels")
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): _label_text(v) for k, v in value.items()}
        if isinstance(value, list):
            labels: dict[str, str] = {}
            for index, item in enumerate(value):
                if isinstance(item, dict) and "key" in item and "value" in item:
                    labels[str(item["key"])] = _label_text(item["value"])
                else:
                    position = value.position_of(index) if isinstance(value, YamlList) else self.raw.position_of("labels")
                    self.error(position, "each label in a list needs 'key' and 'value'")
            return labels
        self.error(self.raw.position_of("labels"), "'labels' must be a map or a list of {key, value}")
        return {}

    def _inputs(self) -> list[Any]:
        from engine.flow.inputs import parse_input_definitions

        value = self.raw.get("inputs")
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(self.raw.position_of("inputs"), "'inputs' must be a list")
            return []
        definitions, problems = parse_input_definitions(list(value))
        for index, problem in problems:
            position = value.position_of(index) if isinstance(value, YamlList) else self.raw.position_of("inputs")
            self.error(position, problem)
        return definitions

    def _outputs(self) -> list[FlowOutput]:
        value = self.raw.get("outputs")
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(self.raw.position_of("outputs"), "'outputs' must be a list of {id, type, value}")
            return []
        outputs = []
        for index, item in enumerate(value):
            position = value.position_of(index) if isinstance(value, YamlList) else self.raw.position
            if not isinstance(item, dict) or "id" not in item or "value" not in item:
                self.error(position, "each flow output needs 'id', 'type' and 'value'")
                continue
            outputs.append(FlowOutput(str(item["id"]), str(item.get("type", "STRING")), item["value"]))
        return outputs

    def _triggers(self) -> list[YamlMap]:
        value = self.raw.get("triggers")
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(self.raw.position_of("triggers"), "'triggers' must be a list")
            return []
        triggers: list[YamlMap] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            position = value.position_of(index) if isinstance(value, YamlList) else self.raw.position
            if not isinstance(item, YamlMap) or not isinstance(item.get("id"), str) or not isinstance(item.get("type"), str):
                self.error(position, "each trigger needs an 'id' and a 'type'")
                continue
            if item["id"] in seen:
                self.error(item.position_of("id"), f"Duplicate trigger id with name [{item['id']}]")
            seen.add(item["id"])
            triggers.append(item)
        if triggers:
            from engine.flow.trigger_checks import trigger_errors

            self.errors.extend(trigger_errors(triggers, self.raw, self.path, self.extra_defaults))
        return triggers

    def _plugin_defaults(self) -> list[dict[str, Any]]:
        defaults: list[dict[str, Any]] = []
        for key in ("pluginDefaults", "taskDefaults"):
            value = self.raw.get(key)
            if value is None:
                continue
            if not isinstance(value, list):
                self.error(self.raw.position_of(key), f"'{key}' must be a list of {{type, values}}")
                continue
            for index, item in enumerate(value):
                position = value.position_of(index) if isinstance(value, YamlList) else self.raw.position
                if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("values"), dict):
                    self.error(position, f"each entry of '{key}' needs 'type' and a 'values' map")
                    continue
                defaults.append(item)
        return defaults

    def _check_unique_task_ids(self, flow: Flow, listener_tasks: list[Task]) -> None:
        seen: set[str] = set()
        for task in (*flow.walk_tasks(), *listener_tasks):  # Kestra counts listeners' tasks too
            if task.id in seen:
                self.error(task.source.position_of("id"), f"Duplicate task id with name [{task.id}]")
            seen.add(task.id)

    def _check_kestra_rules(self, flow: Flow, listener_tasks: list[Task]) -> None:
        """Worker groups and system labels, refused as Kestra OSS refuses them."""
        for position, message in kestra_checks.worker_group_problems(
                (*flow.walk_tasks(), *listener_tasks), flow.triggers):
            self.error(position, message)
        labels = self.raw.get("labels")
        for key, message in kestra_checks.system_label_problems(flow.labels):
            self.error(labels.key_position(key) if isinstance(labels, YamlMap) else self.raw.position_of("labels"),
                       message)
        if listener_tasks or "listeners" in self.raw:
            flow.warnings.append(f"{self.path}:{self.raw.key_position('listeners').line}: "
                                 f"{kestra_checks.LISTENERS_WARNING}")


    def _check_nesting_depth(self, flow: Flow) -> None:
        """Each level of flowable tasks costs the executor a few stack frames: refuse, at load
        time, a depth that would end in a RecursionError mid-run."""
        pending = [(task, 1) for task in (*flow.tasks, *flow.errors, *flow.finally_)]
        while pending:
            task, depth = pending.pop()
            if depth > MAX_TASK_DEPTH:
                self.error(task.position, f"task '{task.id}' is nested {depth} levels deep; "
                                          f"Roost runs at most {MAX_TASK_DEPTH} levels of flowable tasks")
                return
            pending.extend((child, depth + 1) for child in task.all_children())


def _label_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_SUITE_KEY = re.compile(r"^(testCases|flowId)[ \t]*:", re.MULTILINE)


def is_test_suite_text(text: str) -> bool:
    """Whether YAML text is a Kestra TestSuite rather than a flow: `testCases` and `flowId` as
    top-level keys (a flow has neither). A text test, so listing a folder parses nothing."""
    return {match.group(1) for match in _SUITE_KEY.finditer(text)} == {"testCases", "flowId"}


def is_test_suite_file(path: Path) -> bool:
    """is_test_suite_text of a file; False when it cannot be read (the flow loader says why)."""
    try:
        return is_test_suite_text(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False


def discover_yaml_files(root: Path) -> list[Path]:
    """*.yml and *.yaml under a folder, sorted, skipping hidden folders and namespace files."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative) or "namespaces" in relative[:-1]:
            continue
        found.append(path)
    return found


def discover_flow_files(root: Path) -> list[Path]:
    """Flow files under a folder: its YAML files except test suites (`roost test` runs those)."""
    if root.is_file():
        return [root]
    return [path for path in discover_yaml_files(root) if not is_test_suite_file(path)]
