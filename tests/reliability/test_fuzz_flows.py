"""Property-based bad input for the loader, the validator and the executor.

Whatever the text of a flow file, loading it either gives a Flow or raises an
InvalidFlowError whose errors each sit on one `file:line:col: message` line; a flow
that loads runs to a terminal state in bounded time, and a wrong value shows up as
a task failure with a message, never as a Roost "internal error".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.core.config import RoostConfig, RoostHome
from engine.core.errors import FlowError, InvalidFlowError
from engine.core.events import LogLine
from engine.execution.executor import Executor
from engine.execution.runtime import RunOptions, Runtime
from engine.flow.loader import MAX_TASK_DEPTH, load_flow_text
from engine.flow.model import Flow
from engine.tasks import registry
from engine.tasks.properties import Kind, property_specs
from tests.conftest import REPO_ROOT
from tests.reliability import cases

BAD_YAML = pytest.mark.reliability("Bad input: malformed YAML and random text",
                                   "Flow or FlowError with file:line:col, never an exception")
WRONG_TYPES = pytest.mark.reliability("Bad input: wrong types for every property of every task type",
                                      "FlowError at load, or a task failure at run time; bounded time")
NESTING = pytest.mark.reliability("Bad input: deep nesting, huge strings, unicode names",
                                  "clear FlowError or a normal run; no RecursionError, no hang")

FUZZ = settings(max_examples=int(os.environ.get("ROOST_FUZZ_EXAMPLES", "300")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
PATH = "fuzz.yml"
SAMPLES = sorted((REPO_ROOT / "sample_flows").glob("*.yml"))


def load_or_errors(text: str) -> Flow | list[FlowError]:
    """The loader's answer; any exception but InvalidFlowError fails the test."""
    cases.count()
    try:
        return load_flow_text(text, PATH)
    except InvalidFlowError as exc:
        assert exc.errors, "an InvalidFlowError with no error in it"
        for error in exc.errors:
            shown = str(error)
            assert len(shown.splitlines()) == 1, f"an error spans lines: {shown!r}"
            assert shown.startswith(f"{PATH}:{error.line}:{error.column}: ")
            assert error.line >= 1 and error.column >= 1 and error.message.strip()
            assert "Traceback" not in shown
        return exc.errors


# --- random and mutated text ------------------------------------------------------------

yaml_punctuation = st.sampled_from(list(":-[]{},#&*!|>'\"%@`?\n\t ") + ["{{", "}}", "{%", "%}", "---", "..."])
flowish_text = st.lists(st.one_of(st.text(max_size=20), yaml_punctuation,
                                  st.sampled_from(["id: ", "namespace: ", "tasks:\n", "  - id: t\n",
                                                   "    type: io.kestra.plugin.core.log.Log\n",
                                                   "    message: ", "inputs:\n", "\n  "])),
                        max_size=40).map("".join)


@BAD_YAML
@FUZZ
@given(st.one_of(st.text(max_size=500), flowish_text,
                 st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_any_text_is_a_flow_or_positioned_errors(text):
    load_or_errors(text)


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    text = SAMPLES[draw(st.integers(0, len(SAMPLES) - 1))].read_text()
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or [""]
        where = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "indent", "dedent", "replace", "swap"]))
        if kind == "delete":
            start = draw(st.integers(0, len(text)))
            text = text[:start] + text[start + draw(st.integers(1, 30)):]
        elif kind == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.one_of(yaml_punctuation, st.text(max_size=8))) + text[at:]
        elif kind == "duplicate":
            lines.insert(where, lines[where])
            text = "".join(lines)
        elif kind in ("indent", "dedent"):
            lines[where] = ("  " + lines[where]) if kind == "indent" else lines[where][2:]
            text = "".join(lines)
        elif kind == "replace" and ": " in lines[where]:
            key = lines[where].split(": ", 1)[0]
            value = draw(st.one_of(st.sampled_from(["", "[]", "{}", "~", "-1", "1e999", ".nan", "true",
                                                    "[1, [2]]", "{a: {b: c}}", "'{{'", "!!binary aGk=",
                                                    "&x a", "*x", "|", ">-"]), st.text(max_size=10)))
            lines[where] = f"{key}: {value}\n"
            text = "".join(lines)
        elif kind == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[where], lines[other] = lines[other], lines[where]
            text = "".join(lines)
    return text


@BAD_YAML
@FUZZ
@given(mutated_sample())
def test_mutated_sample_flows_load_or_report_positions(text):
    load_or_errors(text)


# --- wrong values for every property of every task type -----------------------------------

def task_classes() -> list[tuple[str, type]]:
    seen: dict[type, str] = {}
    registry.load_all()
    for name in registry.known_type_names():
        seen.setdefault(registry.lookup(name), name)  # type: ignore[arg-type]
    return sorted(((name, cls) for cls, name in seen.items()), key=lambda pair: pair[0])


CLASSES = task_classes()
PROPERTIES = [(name, yaml_name) for name, cls in CLASSES for yaml_name in property_specs(cls)
              if yaml_name not in ("id", "type")]
LOG = {"id": "child", "type": "io.kestra.plugin.core.log.Log", "message": "child ran"}
BASELINE: dict[Kind, Any] = {Kind.TASKS: [LOG], Kind.MAP_OF_TASKS: {"a": [LOG]}, Kind.STRING: "a",
                             Kind.LIST_OR_STRING: ["a"], Kind.INT: 1, Kind.NUMBER: 1, Kind.BOOL: True,
                             Kind.DURATION: "PT0.01S", Kind.LIST: [], Kind.MAP: {}, Kind.ANY: "a",
                             Kind.STRING_LIST: ["a"], Kind.MAP_OR_STRING: {},
                             Kind.DEPENDENT_TASKS: [{"task": LOG}]}
REQUIRED_OVERRIDES = {"commands": ["true"], "script": "true", "url": "file:///nonexistent/repo.git",
                      "condition": "true", "value": "a", "values": ["a"]}
# Values a user might plausibly mistype, next to random ones.
PLAUSIBLE = st.sampled_from([
    "", " ", "{{", "}}", "{{ }}", "{{ inputs.missing }}", "{{ 1 / 0 }}", "{{ [1, 2] }}", "{{ {'a': 1} }}",
    "{{ outputs.nothing.value }}", "{% if %}", "{{ 'x' | nosuchfilter }}", "{{ range(0, 3) }}",
    "PT0S", "PT0.01S", "-PT1S", "P1Y", "PT", "P99999999999D", "1e999", "-1", "0", "NaN",
    "kestra:///x/y", "kestra:///../../etc/passwd", "../escape", "/abs/path", "a\x00b", "nsfile:///x",
    "true", "false", "null", "~", "é🚀", "\u202e", "a" * 300, "\n", "[1]", '{"a": 1}',
])


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), PLAUSIBLE)


yaml_values = st.recursive(scalars(), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), PLAUSIBLE), inner, max_size=4)),
    max_leaves=12)
# Task maps inside lists, so TASKS properties get half-right children too.
task_like = st.fixed_dictionaries({"id": st.sampled_from(["c1", "c2", "bad id", ""]),
                                   "type": st.sampled_from([LOG["type"], "io.kestra.plugin.core.flow.Sequential",
                                                            "no.such.Type", 5])},
                                  optional={"message": yaml_values, "tasks": yaml_values})
property_values = st.one_of(yaml_values, st.lists(task_like, max_size=3))


def task_with(type_name: str, cls: type, prop: str, value: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"id": "target", "type": type_name}
    for yaml_name, (_attr, spec) in property_specs(cls).items():
        if spec.required and yaml_name not in ("id", "type"):
            task[yaml_name] = REQUIRED_OVERRIDES.get(yaml_name, BASELINE[spec.kind])
    if type_name.endswith("python.Script"):
        task["script"] = "pass"
    task[prop] = value
    return task


def flow_text(task: dict[str, Any], wrap_in_working_directory: bool = False) -> str:
    if wrap_in_working_directory:
        task = {"id": "wd", "type": "io.kestra.plugin.core.flow.WorkingDirectory", "tasks": [task]}
    return yaml.safe_dump({"id": "fuzz", "namespace": "reliability.fuzz", "tasks": [task]},
                          allow_unicode=True, sort_keys=False)


@WRONG_TYPES
@FUZZ
@given(st.sampled_from(PROPERTIES), property_values)
def test_any_value_of_any_property_loads_or_reports_its_position(target, value):
    type_name, prop = target
    cls = registry.lookup(type_name)
    assert cls is not None
    result = load_or_errors(flow_text(task_with(type_name, cls, prop, value)))
    if isinstance(result, list):
        # A wrong value is reported on the line of the task or below, never at the top of the file.
        assert max(e.line for e in result) >= 4, [str(e) for e in result]


# Running is safe for everything but what would start arbitrary programs, pull images or
# wait for a resume: those properties are checked at load time only (above).
NOT_RUN_TYPES = ("io.kestra.plugin.git.Clone", "io.kestra.core.tasks.flows.Pause")
NOT_RUN_PROPERTIES = ("commands", "script", "beforeCommands", "interpreter", "dependencies", "docker",
                      "taskRunner", "containerImage", "runner", "pauseDuration", "delay", "retry",
                      # waits a random value makes long (Sleep, WaitFor, a scheduled Subflow) and
                      # addresses a random value makes slow to refuse (http, S3, SMTP, JDBC)
                      "duration", "checkFrequency", "scheduleDate", "uri", "url", "options", "host",
                      "port", "endpointOverride")
RUNNABLE = [(t, p) for t, p in PROPERTIES
            if not any(t == n or registry.lookup(t) is registry.lookup(n) for n in NOT_RUN_TYPES)
            and p not in NOT_RUN_PROPERTIES]
RUN_BOUND_SECONDS = 3  # a run still going is cancelled: KILLED is an allowed end


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    home = RoostHome(tmp_path_factory.mktemp("fuzz-home"))
    created = Runtime.create(home, RoostConfig(), environ={**os.environ, "SECRET_KEY": "c2VjcmV0"})
    yield created
    created.close()


@WRONG_TYPES
@pytest.mark.slow
@settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 10), deadline=None)
@given(st.sampled_from(RUNNABLE), property_values, st.booleans())
def test_a_flow_that_loads_runs_to_an_end_and_fails_only_with_messages(runtime, target, value, in_wd):
    type_name, prop = target
    cls = registry.lookup(type_name)
    assert cls is not None
    flow_file = Path(runtime.home.root) / "flows" / "fuzz.yml"
    try:
        flow = load_flow_text(flow_text(task_with(type_name, cls, prop, value), in_wd and not cls.FLOWABLE),
                              str(flow_file))
    except InvalidFlowError:
        assume(False)
    cases.count()
    executor = Executor(runtime)
    logs: list[LogLine] = []
    executor.bus.subscribe(lambda e: logs.append(e) if isinstance(e, LogLine) else None)
    handle = executor.prepare(flow, {}, options=RunOptions(runner="process", keep_workdir=False))
    executor.start(handle)
    handle.wait(RUN_BOUND_SECONDS)
    if not handle.done:  # a long run (a sleep, a busy machine) is cancelled: it must end then
        handle.cancel()
        handle.wait(60)
    assert handle.done, f"{type_name}.{prop}={value!r} still runs a minute after its cancel"
    state = handle.execution.state.value
    assert state in ("SUCCESS", "WARNING", "FAILED", "KILLED")
    problems = [e.message for e in logs if e.level == "ERROR"]
    assert not [m for m in problems if "internal error" in m], problems
    if state == "FAILED":
        assert problems, f"{type_name}.{prop}={value!r} failed without saying why"


# --- deep nesting, huge strings, unicode names ----------------------------------------------

def nested_flow(depth: int, kind: str = "io.kestra.plugin.core.flow.Sequential") -> str:
    lines = ["id: deep", "namespace: reliability.fuzz", "tasks:"]
    indent = ""
    for level in range(depth - 1):
        lines += [f"{indent}  - id: n{level}", f"{indent}    type: {kind}", f"{indent}    tasks:"]
        indent += "    "
    lines += [f"{indent}  - id: leaf", f"{indent}    type: io.kestra.plugin.core.log.Log",
              f"{indent}    message: deep"]
    return "\n".join(lines) + "\n"


@NESTING
@pytest.mark.parametrize("depth", [MAX_TASK_DEPTH, MAX_TASK_DEPTH + 1, 200, 400, 3000])
def test_deeply_nested_tasks_run_or_are_refused_at_load_time(engine, depth):
    cases.count()
    text = nested_flow(depth)
    try:
        flow = engine.load(text)
    except InvalidFlowError as exc:
        assert depth > MAX_TASK_DEPTH
        message = str(exc)
        assert ("levels deep; Roost runs at most 64 levels of flowable tasks" in message
                or "YAML is nested too deeply to load" in message), message
        return
    assert depth <= MAX_TASK_DEPTH
    result = engine.run_flow(flow)
    assert result.state == "SUCCESS"
    assert result.logs("leaf") == ["deep"]


@NESTING
@pytest.mark.timeout(60)  # a loader that expanded or recursed for ever is cut off here
@pytest.mark.parametrize(("text", "refusal"), [
    ("id: x\nnamespace: a\nvariables:\n  v: " + "[" * 20000 + "]" * 20000 + "\ntasks: []\n",
     "YAML is nested too deeply to load"),
    ("id: x\nnamespace: a\nvariables:\n  v: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
     "YAML is nested too deeply to load"),
    ("".join(" " * i + f"k{i}:\n" for i in range(3000)), "YAML is nested too deeply to load"),
    ("- " * 5000 + "x\n", "YAML is nested too deeply to load"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "refused as an alias bomb"),
], ids=["deep-flow-list", "deep-flow-map", "deep-block-map", "deep-block-list", "billion-laughs"])
def test_pathological_yaml_is_refused_before_it_is_built(text, refusal):
    """Refused by the loader's own limits (depth, alias expansion) with a positioned message."""
    result = load_or_errors(text)
    assert isinstance(result, list)
    assert any(refusal in error.message for error in result), [str(e) for e in result]


@NESTING
def test_a_deeply_nested_template_fails_its_task_with_a_message(engine):
    cases.count()
    result = engine.run(f"""
id: t
namespace: reliability.fuzz
tasks:
  - id: deep
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ {'(' * 3000}1{')' * 3000} }}}}"
""")
    assert result.state == "FAILED"
    [message] = result.logs("deep", "ERROR")
    assert message.startswith("task 'deep' property 'message': ") and "nested too deeply" in message


@NESTING
@pytest.mark.slow
def test_huge_strings_load_and_run(engine):
    cases.count(3)
    big = "é" * 1_000_000
    result = engine.run(f"""
id: huge
namespace: reliability.fuzz
variables:
  big: "{big}"
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ vars.big | length }}}}"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{big}"
""")
    assert result.state == "SUCCESS"
    assert result.logs("log") == ["1000000"]
    assert len(result.run_of("ret").outputs["value"]) == 1_000_000
    with pytest.raises(InvalidFlowError) as refused:
        engine.load(f"id: {'a' * 100_000}\nnamespace: a\ntasks:\n  - id: {'t' * 100_000}\n"
                    "    type: io.kestra.plugin.core.log.Log\n    message: x\n")
    assert [e.message.split(" (")[0] for e in refused.value.errors] == [
        "flow id must be at most 100 characters", "Task id must be at most 256 characters"]


identifiers = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)


@NESTING
@FUZZ
@given(identifiers, identifiers, identifiers, st.text(max_size=30))
def test_unicode_ids_namespaces_and_values_load_or_are_refused_by_name(flow_id, namespace, task_id, message):
    text = yaml.safe_dump({"id": flow_id, "namespace": namespace, "tasks": [
        {"id": task_id, "type": "io.kestra.plugin.core.log.Log", "message": message}]}, allow_unicode=True)
    result = load_or_errors(text)
    if isinstance(result, Flow):
        assert flow_id.isascii() and namespace.isascii() and task_id.isascii()
    else:
        assert all(e.message for e in result)


@WRONG_TYPES
def test_yaml_booleans_and_numbers_in_commands_and_env_are_text_as_in_kestra(engine):
    """Jackson reads `- true` in a list of strings as "true"; Python's str() would say "True"."""
    cases.count()
    result = engine.run("""
id: scalars
namespace: reliability.fuzz
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      FLAG: true
      RATIO: 1.5
    beforeCommands:
      - true
    commands:
      - echo "$FLAG $RATIO"
      - true
""")
    assert result.state == "SUCCESS", result.logs(min_level="ERROR")
    assert result.logs("sh") == ["true 1.5"]
