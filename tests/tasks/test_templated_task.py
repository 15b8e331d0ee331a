"""Kestra's TemplatedTask (engine/tasks/templated.py): a rendered spec built and run in place."""

from __future__ import annotations

from typing import Any

from tests.conftest import Engine, RunResult


def _outputs(result: RunResult, task_id: str) -> dict[str, Any]:
    return dict(result.run_of(task_id).outputs or {})


def _flow(spec: str, extra: str = "", task_type: str = "io.kestra.plugin.core.templating.TemplatedTask") -> str:
    indented = "\n".join("      " + line for line in spec.strip().splitlines())
    return f"""
id: templated
namespace: test.templating
inputs:
  - id: kind
    type: STRING
    defaults: io.kestra.plugin.core.debug.Return
tasks:
  - id: templated
    type: {task_type}
    spec: |
{indented}
{extra}"""


def test_templated_task_runs_the_task_its_rendered_type_names(engine: Engine) -> None:
    result = engine.run(_flow("""
type: "{{ inputs.kind }}"
format: "made by {{ task.id }}"
"""))
    assert result.state == "SUCCESS", result.logs()
    assert _outputs(result, "templated") == {"value": "made by templated"}


def test_templated_task_renders_property_names_too(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.plugin.core.log.Log
{{ 'mess' ~ 'age' }}: "logged from a template"
"""))
    assert result.state == "SUCCESS", result.logs()
    assert "logged from a template" in result.logs("templated")


def test_templated_task_legacy_type_name_runs_too(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.plugin.core.debug.Return
format: legacy
""", task_type="io.kestra.core.tasks.templating.TemplatedTask"))
    assert _outputs(result, "templated") == {"value": "legacy"}


def test_templated_task_applies_the_flows_plugin_defaults(engine: Engine) -> None:
    result = engine.run(_flow("type: io.kestra.plugin.core.debug.Return", extra="""
pluginDefaults:
  - type: io.kestra.plugin.core.debug.Return
    values:
      format: from defaults
"""))
    assert result.state == "SUCCESS", result.logs()
    assert _outputs(result, "templated") == {"value": "from defaults"}


def test_templated_task_fails_when_the_inner_task_fails(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.plugin.core.execution.Fail
errorMessage: "inner says no"
"""))
    assert result.state == "FAILED"
    assert any("inner says no" in line for line in result.logs("templated"))


def test_templated_task_refuses_a_flowable_task(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.plugin.core.flow.Sequential
tasks:
  - id: inner
    type: io.kestra.plugin.core.log.Log
    message: never runs
"""))
    assert result.state == "FAILED"
    assert "The templated task must be a runnable task" in result.logs("templated", "ERROR")
    assert not result.runs_of("inner") and "never runs" not in result.logs()


def test_templated_task_refuses_a_templated_task(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.core.tasks.templating.TemplatedTask
spec: whatever
"""))
    assert result.state == "FAILED"
    assert ("The templated task cannot be of type 'io.kestra.plugin.core.templating.TemplatedTask'"
            in result.logs("templated", "ERROR"))


def test_templated_task_names_an_unknown_property_of_the_spec(engine: Engine) -> None:
    result = engine.run(_flow("""
type: io.kestra.plugin.core.debug.Return
formt: oops
"""))
    assert result.state == "FAILED"
    assert any("task 'templated' spec is not a valid task" in line and "unknown property 'formt'" in line
               for line in result.logs("templated", "ERROR"))


def test_templated_task_refuses_a_spec_that_is_not_a_map(engine: Engine) -> None:
    result = engine.run(_flow("just some text"))
    assert result.state == "FAILED"
    assert any("must render to a YAML map" in line for line in result.logs("templated", "ERROR"))


def test_templated_task_refuses_a_spec_that_is_not_yaml(engine: Engine) -> None:
    result = engine.run(_flow("type: [unclosed"))
    assert result.state == "FAILED"
    assert any("does not render to valid YAML" in line for line in result.logs("templated", "ERROR"))
