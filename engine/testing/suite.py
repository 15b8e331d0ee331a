"""Kestra's TestSuite YAML as typed values: the suite, its cases, fixtures and assertions.

The format is Kestra's (`io.kestra.core.test.TestSuite`, `flow.UnitTest`, `Fixtures`,
`TaskFixture`, `TriggerFixture`, `Assertion`), so a suite runs unchanged here and on Kestra
EE. It is read with `engine.core.yaml_source` and every mistake becomes a
`FlowError(path, line, column, message)`, all of them collected before one
`InvalidFlowError` is raised, as the flow loader does. `check_against_flow` adds what needs
the flow (a fixture's task id, an input's name); `find_flow` finds that flow on disk.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from engine.core.errors import FlowError, InvalidFlowError, UsageError
from engine.core.states import State
from engine.core.yaml_source import Position, YamlList, YamlMap, load_yaml
from engine.flow.loader import (
    FLOW_ID_PATTERN,
    NAMESPACE_PATTERN,
    discover_flow_files,
    discover_yaml_files,
    is_test_suite_file,
    load_flow,
)
from engine.flow.model import Flow

UNIT_TEST_TYPE = "io.kestra.core.tests.flow.UnitTest"
"""The one test case type Kestra has."""

OPERATORS: tuple[str, ...] = (
    "isNull", "isNotNull", "endsWith", "startsWith", "equalTo", "contains", "notEqualTo",
    "greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo", "in", "notIn",
)
"""Assertion operators, in the order Kestra evaluates them (and lists their results)."""

OPERATOR_ALIASES: Mapping[str, str] = {"equalsTo": "equalTo", "notEqualsTo": "notEqualTo"}
"""Kestra's older spellings (before 0.24), accepted and reported under the current name."""

FIXTURE_STATES: tuple[State, ...] = (State.SUCCESS, State.WARNING, State.FAILED, State.KILLED,
                                     State.SKIPPED)
"""The states a task fixture may end its task run in (Kestra's terminal ones Roost has)."""

SUITE_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
_SUITE_KEYS = ("id", "namespace", "flowId", "description", "testCases", "disabled")
_CASE_KEYS = ("id", "type", "disabled", "description", "fixtures", "assertions")
_FIXTURE_KEYS = ("inputs", "files", "tasks", "trigger")
_TASK_FIXTURE_KEYS = ("id", "value", "state", "outputs", "description", "assets")
_TRIGGER_KEYS = ("id", "type", "variables")
_ASSERTION_KEYS = ("value", "taskId", "errorMessage", "description")
_NUMBER_OPERATORS = ("greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo")
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class AssertionSpec:
    """One `assertions[]` entry: a Pebble `value` and the operators it is checked with.

    Each operator gives its own result (Kestra's `Assertion.run`); ``operators`` holds them
    in Kestra's order, each as (its current name, the expected value as written in YAML).
    """

    value: Any
    operators: tuple[tuple[str, Any], ...]
    task_id: str | None = None
    error_message: str | None = None
    description: str | None = None
    position: Position = Position(1, 1)

    @property
    def expression(self) -> str:
        """The `value` as written: what failure messages quote first."""
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return "null" if self.value is None else str(self.value)


@dataclass(frozen=True)
class TaskFixture:
    """A task that does not run: its state and (rendered) outputs stand in for it."""

    id: str
    value: str | None = None
    state: State = State.SUCCESS
    outputs: Mapping[str, Any] | None = None      # None: the task is skipped with no outputs
    description: str | None = None
    position: Position = Position(1, 1)


@dataclass(frozen=True)
class TriggerFixture:
    """The trigger a case runs as if it fired: its `variables` are the `trigger` variable."""

    id: str
    type: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fixtures:
    """What a case sets up: inputs, inline files (`{{ files['name'] }}`), tasks, a trigger."""

    inputs: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    tasks: tuple[TaskFixture, ...] = ()
    trigger: TriggerFixture | None = None


@dataclass(frozen=True)
class UnitTest:
    """One test case (`type: io.kestra.core.tests.flow.UnitTest`): one execution of the flow."""

    id: str
    type: str = UNIT_TEST_TYPE
    disabled: bool = False
    description: str | None = None
    fixtures: Fixtures = field(default_factory=Fixtures)
    assertions: tuple[AssertionSpec, ...] = ()
    position: Position = Position(1, 1)


@dataclass(frozen=True)
class TestSuite:
    """A suite of test cases for one flow (namespace + flowId), read from `path`."""

    __test__: ClassVar[bool] = False   # not a pytest class, whatever its name

    id: str
    namespace: str
    flow_id: str
    test_cases: tuple[UnitTest, ...]
    description: str | None = None
    disabled: bool = False
    path: str = ""
    text: str = ""
    flow_id_position: Position = Position(1, 1)

    @property
    def flow_key(self) -> str:
        """`namespace.flowId`, as flows are named on screen."""
        return f"{self.namespace}.{self.flow_id}"

    def case(self, case_id: str) -> UnitTest | None:
        """The case with this id, if the suite has one."""
        return next((c for c in self.test_cases if c.id == case_id), None)


def load_suite(path: str | Path, flow: Flow | None = None) -> TestSuite:
    """Read and check a suite file (against `flow` too, when given); raises InvalidFlowError."""
    suite, errors = read_suite(path, flow)
    if errors or suite is None:
        raise InvalidFlowError(errors)
    return suite


def load_suite_text(text: str, path: str = "<suite>", flow: Flow | None = None) -> TestSuite:
    """A suite from YAML text (an editor's buffer); raises InvalidFlowError listing every mistake."""
    suite, errors = read_suite_text(text, path, flow)
    if errors or suite is None:
        raise InvalidFlowError(errors)
    return suite


def read_suite(path: str | Path, flow: Flow | None = None) -> tuple[TestSuite | None, list[FlowError]]:
    """The suite as far as it could be read, and every mistake; None when it is not YAML at all.

    A suite with mistakes still names its flow, so its fixtures can be checked against it too:
    `roost test` reports everything wrong with a suite in one go.
    """
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [FlowError(str(path), 1, 1, "file not found")]
    except UnicodeDecodeError as exc:
        return None, [FlowError(str(path), 1, 1, f"file is not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return None, [FlowError(str(path), 1, 1, f"cannot read file: {exc.strerror}")]
    return read_suite_text(text, str(path), flow)


def read_suite_text(text: str, path: str = "<suite>",
                    flow: Flow | None = None) -> tuple[TestSuite | None, list[FlowError]]:
    """read_suite for YAML text."""
    try:
        raw = load_yaml(text, path)
    except InvalidFlowError as exc:
        return None, list(exc.errors)
    if not isinstance(raw, YamlMap):
        got = "an empty file" if raw is None else "not a map"
        return None, [FlowError(path, 1, 1, "a test suite must be a YAML map with id, namespace, "
                                            f"flowId and testCases; this is {got}")]
    reader = _SuiteReader(raw, text, path)
    suite = reader.read()
    errors = reader.errors + (check_against_flow(suite, flow) if flow is not None else [])
    return suite, sorted(errors, key=lambda e: (e.line, e.column))


def check_against_flow(suite: TestSuite, flow: Flow) -> list[FlowError]:
    """What the flow must have for the suite: the tasks fixtures and assertions name, the inputs."""
    errors: list[FlowError] = []

    def error(position: Position, message: str) -> None:
        errors.append(FlowError(suite.path, position.line, position.column, message))

    if (suite.namespace, suite.flow_id) != (flow.namespace, flow.id):
        error(suite.flow_id_position, f"the suite tests {suite.flow_key}, not {flow.key} ({flow.path})")
    task_ids = [task.id for task in flow.walk_tasks()]
    input_ids = [definition.id for definition in flow.inputs]
    for case in suite.test_cases:
        for fixture in case.fixtures.tasks:
            if fixture.id not in task_ids:
                error(fixture.position, f"test case '{case.id}': the fixture's task '{fixture.id}' is not "
                                        f"a task of {flow.key}{_closest(fixture.id, task_ids)}")
        inputs = case.fixtures.inputs
        for name in inputs:
            if name not in input_ids:
                listed = ", ".join(input_ids) if input_ids else "no inputs"
                where = inputs.key_position(name) if isinstance(inputs, YamlMap) else case.position
                error(where, f"test case '{case.id}': fixtures.inputs names '{name}', which is not an "
                                     f"input of {flow.key}{_closest(name, input_ids)} (it declares: {listed})")
        for assertion in case.assertions:
            if assertion.task_id is not None and assertion.task_id not in task_ids:
                error(assertion.position, f"test case '{case.id}': the assertion's taskId '{assertion.task_id}' "
                                          f"is not a task of {flow.key}{_closest(assertion.task_id, task_ids)}")
    return errors


def discover_suites(paths: Iterable[str | Path]) -> list[Path]:
    """Suite files: each file given, and under each folder the YAML files with top-level
    `testCases` and `flowId` (hidden folders and namespace files skipped). Raises UsageError
    for a path that does not exist."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(p for p in discover_yaml_files(path) if is_test_suite_file(p))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def find_flow(suite: TestSuite, roots: Sequence[str | Path],
              plugin_defaults: Iterable[Mapping[str, Any]] = ()) -> Flow:
    """The flow the suite tests: namespace + flowId among the flows under `roots`, in order
    (the suite's own folder first). Raises InvalidFlowError: that flow's own mistakes when it
    is invalid, or one at the suite's flowId naming the folders searched."""
    defaults = list(plugin_defaults)
    searched: list[str] = []
    seen: set[Path] = set()
    for root in roots:
        folder = Path(root)
        searched.append(str(folder))
        for path in discover_flow_files(folder) if folder.is_dir() else []:
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            flow = _flow_if_named(path, suite, defaults)
            if flow is not None:
                return flow
    position = suite.flow_id_position
    raise InvalidFlowError([FlowError(suite.path, position.line, position.column,
                                      f"no flow {suite.flow_key} under {', '.join(searched)}: the suite's "
                                      f"namespace and flowId must name a flow there")])


def _flow_if_named(path: Path, suite: TestSuite, defaults: list[Mapping[str, Any]]) -> Flow | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if suite.flow_id not in text or suite.namespace not in text:  # cheap: most files are other flows
        return None
    try:
        flow = load_flow(path, defaults)
    except InvalidFlowError:
        raw_id = re.search(r"^id[ \t]*:[ \t]*['\"]?([^'\"\s#]+)", text, re.MULTILINE)
        raw_namespace = re.search(r"^namespace[ \t]*:[ \t]*['\"]?([^'\"\s#]+)", text, re.MULTILINE)
        if raw_id and raw_namespace and (raw_namespace.group(1), raw_id.group(1)) == (suite.namespace, suite.flow_id):
            raise  # the tested flow is invalid: its own errors are what the user must see
        return None
    return flow if (flow.namespace, flow.id) == (suite.namespace, suite.flow_id) else None


def _closest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class _SuiteReader:
    """Reads one suite document, collecting every mistake with its position."""

    def __init__(self, raw: YamlMap, text: str, path: str) -> None:
        self.raw = raw
        self.text = text
        self.path = path
        self.errors: list[FlowError] = []

    def error(self, position: Position, message: str) -> None:
        self.errors.append(FlowError(self.path, position.line, position.column, message))

    def read(self) -> TestSuite:
        raw = self.raw
        self._unknown_keys(raw, _SUITE_KEYS, "test suite property")
        suite_id = self._identifier(raw, "id", SUITE_ID_PATTERN, "suite id")
        namespace = self._identifier(raw, "namespace", NAMESPACE_PATTERN, "namespace")
        flow_id = self._identifier(raw, "flowId", FLOW_ID_PATTERN, "flowId")
        cases_raw = raw.get("testCases")
        cases: list[UnitTest] = []
        if not isinstance(cases_raw, list) or not cases_raw:
            where = raw.position_of("testCases") if "testCases" in raw else raw.position
            self.error(where, "a test suite needs a non-empty 'testCases' list")
        else:
            seen: set[str] = set()
            for index, item in enumerate(cases_raw):
                case = self._case(item, _item_position(cases_raw, index, raw.position))
                if case is None:
                    continue
                if case.id in seen:
                    self.error(case.position, f"Duplicate test case id with name [{case.id}]")
                seen.add(case.id)
                cases.append(case)
        return TestSuite(
            id=suite_id, namespace=namespace, flow_id=flow_id, test_cases=tuple(cases),
            description=self._text(raw, "description"), disabled=self._flag(raw, "disabled"),
            path=self.path, text=self.text, flow_id_position=raw.position_of("flowId"),
        )

    # --- a test case -----------------------------------------------------------------
    def _case(self, item: Any, position: Position) -> UnitTest | None:
        if not isinstance(item, YamlMap):
            self.error(position, "each test case must be a map with id, type and assertions")
            return None
        self._unknown_keys(item, _CASE_KEYS, "test case property")
        case_id = self._required_text(item, "id", "test case")
        case_type = self._required_text(item, "type", "test case")
        if case_type and case_type != UNIT_TEST_TYPE:
            self.error(item.position_of("type"), f"unknown test case type '{case_type}': "
                                                 f"the only type is {UNIT_TEST_TYPE}")
        assertions_raw = item.get("assertions")
        assertions: list[AssertionSpec] = []
        if assertions_raw is None:
            self.error(item.position, f"test case '{case_id}': missing required property 'assertions'")
        elif not isinstance(assertions_raw, list):
            self.error(item.position_of("assertions"), f"test case '{case_id}': 'assertions' must be a list")
        else:
            for index, entry in enumerate(assertions_raw):
                spec = self._assertion(entry, _item_position(assertions_raw, index, item.position), case_id)
                if spec is not None:
                    assertions.append(spec)
        fixtures = self._fixtures(item.get("fixtures"), item, case_id)
        return UnitTest(id=case_id, type=case_type or UNIT_TEST_TYPE, disabled=self._flag(item, "disabled"),
                        description=self._text(item, "description"), fixtures=fixtures,
                        assertions=tuple(assertions), position=item.position)

    # --- fixtures --------------------------------------------------------------------
    def _fixtures(self, raw: Any, case: YamlMap, case_id: str) -> Fixtures:
        if raw is None:
            return Fixtures()
        if not isinstance(raw, YamlMap):
            self.error(case.position_of("fixtures"), f"test case '{case_id}': 'fixtures' must be a map")
            return Fixtures()
        self._unknown_keys(raw, _FIXTURE_KEYS, "fixtures property")
        inputs = self._map(raw, "inputs", f"test case '{case_id}': fixtures.inputs")
        files = self._files(raw, case_id)
        tasks: list[TaskFixture] = []
        tasks_raw = raw.get("tasks")
        if tasks_raw is not None and not isinstance(tasks_raw, list):
            self.error(raw.position_of("tasks"), f"test case '{case_id}': fixtures.tasks must be a list")
        elif tasks_raw:
            seen: set[tuple[str, str | None]] = set()
            for index, entry in enumerate(tasks_raw):
                fixture = self._task_fixture(entry, _item_position(tasks_raw, index, raw.position), case_id)
                if fixture is None:
                    continue
                if (fixture.id, fixture.value) in seen:
                    value = f" (value '{fixture.value}')" if fixture.value is not None else ""
                    self.error(fixture.position, f"test case '{case_id}': two fixtures for task '{fixture.id}'{value}")
                seen.add((fixture.id, fixture.value))
                tasks.append(fixture)
        return Fixtures(inputs=inputs, files=files, tasks=tuple(tasks), trigger=self._trigger(raw, case_id))

    def _files(self, raw: YamlMap, case_id: str) -> dict[str, str]:
        files = self._map(raw, "files", f"test case '{case_id}': fixtures.files")
        checked: dict[str, str] = {}
        where = raw.get("files")
        for name, content in files.items():
            position = where.position_of(name) if isinstance(where, YamlMap) else raw.position
            if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
                self.error(where.key_position(name) if isinstance(where, YamlMap) else raw.position,
                           f"test case '{case_id}': the file name '{name}' must be a plain name (no '/')")
            elif not isinstance(content, str):
                self.error(position, f"test case '{case_id}': the content of file '{name}' must be text")
            else:
                checked[name] = content
        return checked

    def _task_fixture(self, entry: Any, position: Position, case_id: str) -> TaskFixture | None:
        if not isinstance(entry, YamlMap):
            self.error(position, f"test case '{case_id}': each task fixture must be a map with an 'id'")
            return None
        self._unknown_keys(entry, _TASK_FIXTURE_KEYS, "task fixture property")
        task_id = self._required_text(entry, "id", f"test case '{case_id}': task fixture")
        value = entry.get("value")
        state = State.SUCCESS
        raw_state = entry.get("state")
        if raw_state is not None:
            names = [s.value for s in FIXTURE_STATES]
            if not isinstance(raw_state, str) or raw_state not in names:
                self.error(entry.position_of("state"),
                           f"test case '{case_id}': task fixture '{task_id}': state '{raw_state}' is not one of "
                           f"{', '.join(names)}{_closest(str(raw_state).upper(), names)}")
            else:
                state = State(raw_state)
        outputs = entry.get("outputs")
        if outputs is not None and not isinstance(outputs, dict):
            self.error(entry.position_of("outputs"), f"test case '{case_id}': task fixture '{task_id}': "
                                                     "'outputs' must be a map")
            outputs = None
        return TaskFixture(id=task_id, value=None if value is None else _scalar_text(value), state=state,
                           outputs=outputs, description=self._text(entry, "description"),
                           position=entry.position_of("id"))

    def _trigger(self, raw: YamlMap, case_id: str) -> TriggerFixture | None:
        entry = raw.get("trigger")
        if entry is None:
            return None
        if not isinstance(entry, YamlMap):
            self.error(raw.position_of("trigger"), f"test case '{case_id}': fixtures.trigger must be a map "
                                                   "with id, type and variables")
            return None
        self._unknown_keys(entry, _TRIGGER_KEYS, "trigger fixture property")
        what = f"test case '{case_id}': fixtures.trigger"
        return TriggerFixture(id=self._required_text(entry, "id", what),
                              type=self._required_text(entry, "type", what),
                              variables=self._map(entry, "variables", f"{what}.variables"))

    # --- assertions ------------------------------------------------------------------
    def _assertion(self, entry: Any, position: Position, case_id: str) -> AssertionSpec | None:
        if not isinstance(entry, YamlMap):
            self.error(position, f"test case '{case_id}': each assertion must be a map with a 'value' "
                                 "and an operator (equalTo, ...)")
            return None
        given: dict[str, Any] = {}
        unknown = False
        for key in entry:
            name = OPERATOR_ALIASES.get(key, key)
            if key in _ASSERTION_KEYS:
                continue
            if name not in OPERATORS:
                unknown = True
                known = [*OPERATORS, *_ASSERTION_KEYS]
                self.error(entry.key_position(key), f"test case '{case_id}': unknown assertion operator "
                                                    f"'{key}'{_closest(key, known)}")
                continue
            if name in given:
                self.error(entry.key_position(key), f"test case '{case_id}': the operator {name} is given "
                                                    f"twice ({key} is its older spelling)")
                continue
            if entry[key] is not None:
                given[name] = entry[key]
                self._check_operand(name, entry[key], entry.position_of(key), case_id)
        if entry.get("value") is None:
            self.error(entry.position, f"test case '{case_id}': an assertion needs a 'value' to check")
        if not given and not unknown:  # a misspelt operator was reported already
            self.error(entry.position, f"test case '{case_id}': Invalid TestSuite Assertion: at least one "
                                       "actual assertion is required (equalTo, greaterThan..)")
        return AssertionSpec(
            value=entry.get("value"),
            operators=tuple((name, given[name]) for name in OPERATORS if name in given),
            task_id=self._text(entry, "taskId"), error_message=self._text(entry, "errorMessage"),
            description=self._text(entry, "description"), position=entry.position,
        )

    def _check_operand(self, operator: str, operand: Any, position: Position, case_id: str) -> None:
        """What can be told before running: a number where one is needed, a list, a boolean."""
        templated = isinstance(operand, str) and ("{{" in operand or "{%" in operand)
        if templated:
            return
        where = f"test case '{case_id}': {operator}"
        if operator in _NUMBER_OPERATORS and not (
                (isinstance(operand, int | float) and not isinstance(operand, bool))
                or (isinstance(operand, str) and _NUMBER_TEXT.match(operand))):
            self.error(position, f"{where} compares numbers; '{operand}' is not a number")
        elif operator in ("in", "notIn") and not isinstance(operand, list):
            self.error(position, f"{where} needs a list of values")
        elif operator in ("isNull", "isNotNull") and not (
                isinstance(operand, bool) or (isinstance(operand, str) and operand in ("true", "false"))):
            self.error(position, f"{where} takes true or false, not '{operand}'")
        elif operator in ("startsWith", "endsWith", "contains") and isinstance(operand, dict | list):
            self.error(position, f"{where} compares text; give a string")

    # --- scalar helpers --------------------------------------------------------------
    def _unknown_keys(self, raw: YamlMap, known: Sequence[str], what: str) -> None:
        for key in raw:
            if key not in known:
                self.error(raw.key_position(key), f"unknown {what} '{key}'{_closest(key, known)}")

    def _identifier(self, raw: YamlMap, key: str, pattern: re.Pattern[str], what: str) -> str:
        value = raw.get(key)
        if value is None:
            self.error(raw.position, f"missing required property '{key}'")
            return ""
        text = _scalar_text(value) if not isinstance(value, dict | list) else ""
        if not text or not pattern.fullmatch(text):
            self.error(raw.position_of(key), f"{what} '{value}' is invalid (pattern {pattern.pattern})")
        return text

    def _required_text(self, raw: YamlMap, key: str, what: str) -> str:
        value = raw.get(key)
        if value is None:
            self.error(raw.position, f"{what}: missing required property '{key}'")
            return ""
        if isinstance(value, dict | list):
            self.error(raw.position_of(key), f"{what}: '{key}' must be a string")
            return ""
        return _scalar_text(value)

    def _text(self, raw: YamlMap, key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, dict | list):
            self.error(raw.position_of(key), f"'{key}' must be a string")
            return None
        return _scalar_text(value)

    def _flag(self, raw: YamlMap, key: str) -> bool:
        value = raw.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(raw.position_of(key), f"'{key}' must be true or false")
            return False
        return value

    def _map(self, raw: YamlMap, key: str, what: str) -> dict[str, Any]:
        value = raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(raw.position_of(key), f"{what} must be a map")
            return {}
        return value  # a YamlMap: later checks (an input's name) still know where each key is


def _item_position(items: list[Any], index: int, fallback: Position) -> Position:
    return items.position_of(index) if isinstance(items, YamlList) else fallback


def _scalar_text(value: Any) -> str:
    """A YAML scalar as Jackson reads it into a String field (`id: 2024` is "2024")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
