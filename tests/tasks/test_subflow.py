"""Kestra's Subflow task: a child execution of another flow, found by namespace + flowId."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.core.errors import InvalidFlowError
from engine.core.events import Event, LogLine
from engine.core.records import Execution
from engine.core.states import State
from engine.execution.executor import Executor
from tests.conftest import Engine

CHILD = """
    id: child
    namespace: roost.sub
    inputs:
      - id: name
        type: STRING
        defaults: world
    labels:
      childFlowLabel: fromChild
    tasks:
      - id: hello
        type: io.kestra.plugin.core.debug.Return
        format: "hello {{ inputs.name }}"
    outputs:
      - id: greeting
        type: STRING
        value: "{{ outputs.hello.value }}"
"""


def write_flow(engine: Engine, name: str, text: str) -> Path:
    path = engine.flow_dir / name
    path.write_text(textwrap.dedent(text))
    return path


def child_execution(engine: Engine, execution_id: str) -> Execution:
    history = engine.runtime.history
    assert history is not None
    history.flush()
    execution = history.get_execution(execution_id)
    assert execution is not None, f"child execution {execution_id} is not in history"
    return execution


def test_subflow_passes_inputs_and_returns_the_childs_flow_outputs(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            inputs:
              name: "{{ flow.id }}"
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.call.outputs.greeting }}"
    """)
    assert result.state == "SUCCESS"
    outputs = result.run_of("call").outputs
    assert outputs["state"] == "SUCCESS"
    assert outputs["outputs"] == {"greeting": "hello parent"}
    assert result.run_of("show").outputs["value"] == "hello parent"
    child = child_execution(engine, outputs["executionId"])
    assert (child.namespace, child.flow_id, child.state) == ("roost.sub", "child", State.SUCCESS)
    assert child.inputs == {"name": "parent"}


def test_subflow_child_sees_the_parent_in_its_trigger_variables(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: child
        namespace: roost.sub
        tasks:
          - id: who
            type: io.kestra.plugin.core.debug.Return
            format: "{{ trigger.executionId }}|{{ trigger.namespace }}|{{ trigger.flowId }}|{{ trigger.flowRevision }}"
        outputs:
          - id: caller
            type: STRING
            value: "{{ outputs.who.value }}"
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.core.tasks.flows.Flow
            namespace: roost.sub
            flowId: child
    """)
    assert result.run_of("call").outputs["outputs"]["caller"] == f"{result.execution.id}|roost.tests|parent|1"


def test_subflow_failed_child_fails_the_task_by_default(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: broken
        namespace: roost.sub
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
            errorMessage: child broke
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: broken
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: never
    """)
    assert result.state == "FAILED"
    run = result.run_of("call")
    assert run.state is State.FAILED
    assert run.outputs["state"] == "FAILED"
    assert "after" not in result.states()
    assert any("roost.sub.broken" in line and "FAILED" in line for line in result.logs("call"))
    assert child_execution(engine, run.outputs["executionId"]).state is State.FAILED


def test_subflow_failed_child_is_not_transmitted_when_transmit_failed_is_false(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: broken
        namespace: roost.sub
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: broken
            transmitFailed: false
    """)
    assert result.state == "SUCCESS"
    assert result.run_of("call").state is State.SUCCESS
    assert result.run_of("call").outputs["state"] == "FAILED"


def test_subflow_failed_child_with_allow_failure_ends_the_task_in_warning(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: broken
        namespace: roost.sub
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: broken
            allowFailure: true
    """)
    assert result.run_of("call").state is State.WARNING
    assert result.state == "WARNING"


def test_subflow_without_wait_succeeds_before_the_child_ends(engine: Engine) -> None:
    write_flow(engine, "slow.yml", """
        id: slow
        namespace: roost.sub
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Pause
            pauseDuration: PT0.3S
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: slow
            wait: false
    """)
    run = result.run_of("call")
    assert run.state is State.SUCCESS
    assert run.outputs["state"] == "CREATED" and "outputs" not in run.outputs
    child = child_execution(engine, run.outputs["executionId"])   # the parent's thread waited for it
    assert child.state is State.SUCCESS
    assert run.end_date is not None and child.end_date is not None
    assert run.end_date < child.end_date
    assert result.execution.end_date is not None and result.execution.end_date < child.end_date


def test_subflow_inherit_labels_gives_the_child_the_parents_labels(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        labels:
          parentFlowLabel: fromParent
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            inheritLabels: true
            labels:
              taskLabel: "{{ flow.id }}"
    """)
    child = child_execution(engine, result.run_of("call").outputs["executionId"])
    assert child.labels == {"parentFlowLabel": "fromParent", "taskLabel": "parent",
                            "childFlowLabel": "fromChild", "system.correlationId": result.execution.id}


def test_subflow_without_inherit_labels_passes_only_its_own_labels(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        labels:
          parentFlowLabel: fromParent
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            labels:
              - key: taskLabel
                value: given
    """)
    child = child_execution(engine, result.run_of("call").outputs["executionId"])
    assert child.labels == {"taskLabel": "given", "childFlowLabel": "fromChild",
                            "system.correlationId": result.execution.id}


def test_subflow_correlation_id_is_the_first_executions_id_down_the_chain(engine: Engine) -> None:
    write_flow(engine, "grandchild.yml", """
        id: grandchild
        namespace: roost.sub
        tasks:
          - id: corr
            type: io.kestra.plugin.core.debug.Return
            format: "{{ labels.system.correlationId }}"
        outputs:
          - id: corr
            type: STRING
            value: "{{ outputs.corr.value }}"
    """)
    write_flow(engine, "middle.yml", """
        id: middle
        namespace: roost.sub
        tasks:
          - id: down
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: grandchild
        outputs:
          - id: corr
            type: STRING
            value: "{{ outputs.down.outputs.corr }}"
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: middle
    """)
    assert result.run_of("call").outputs["outputs"]["corr"] == result.execution.id


def test_subflow_not_found_fails_naming_the_namespace_and_flow_id(engine: Engine) -> None:
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.nowhere
            flowId: missing
    """)
    assert result.state == "FAILED"
    (message,) = [line for line in result.logs("call") if "missing" in line]
    assert "Unable to find flow 'roost.nowhere'.'missing'" in message
    assert str(engine.flow_dir) in message


def test_subflow_refused_inputs_fail_the_task_naming_the_flow(engine: Engine) -> None:
    write_flow(engine, "strict.yml", """
        id: strict
        namespace: roost.sub
        inputs:
          - id: count
            type: INT
        tasks:
          - id: noop
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.count }}"
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: strict
            inputs:
              count: not-a-number
    """)
    assert result.state == "FAILED"
    assert any("roost.sub.strict refused the inputs" in line for line in result.logs("call"))


def test_subflow_deprecated_outputs_are_rendered_against_the_child(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: plain
        namespace: roost.sub
        tasks:
          - id: compute
            type: io.kestra.plugin.core.debug.Return
            format: "42"
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: plain
            outputs:
              extracted: "answer {{ outputs.compute.value }}"
    """)
    assert result.run_of("call").outputs["outputs"] == {"extracted": "answer 42"}


def test_subflow_deprecated_outputs_that_fail_to_render_fail_the_task(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: plain
        namespace: roost.sub
        tasks:
          - id: compute
            type: io.kestra.plugin.core.debug.Return
            format: "42"
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: plain
            outputs:
              extracted: "{{ outputs.absent.value }}"
    """)
    run = result.run_of("call")
    assert run.state is State.FAILED
    assert run.outputs["state"] == "SUCCESS" and "executionId" in run.outputs
    assert any("cannot extract the subflow's outputs" in line for line in result.logs("call"))


def test_subflow_child_may_read_a_file_of_its_parent(engine: Engine, tmp_path: Path) -> None:
    write_flow(engine, "reader.yml", """
        id: reader
        namespace: roost.sub
        inputs:
          - id: data
            type: STRING
        tasks:
          - id: read
            type: io.kestra.plugin.core.debug.Return
            format: "{{ read(inputs.data) }}"
        outputs:
          - id: text
            type: STRING
            value: "{{ outputs.read.value }}"
    """)
    source = tmp_path / "data.txt"
    source.write_text("parent's bytes")
    result = engine.run("""
        id: parent
        namespace: roost.tests
        inputs:
          - id: file
            type: FILE
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: reader
            inputs:
              data: "{{ inputs.file }}"
    """, {"file": str(source)})
    assert result.run_of("call").outputs["outputs"] == {"text": "parent's bytes"}


def test_subflow_revision_other_than_the_current_one_is_warned(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            revision: 3
    """)
    assert result.state == "SUCCESS"
    assert any("revision 3" in line for line in result.logs("call", "WARN"))


def test_subflow_task_labels_may_not_be_system_labels(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match="System labels can only be set by Kestra itself"):
        engine.load("""
            id: parent
            namespace: roost.tests
            tasks:
              - id: call
                type: io.kestra.plugin.core.flow.Subflow
                namespace: roost.sub
                flowId: child
                labels:
                  system.correlationId: forged
        """)


def test_subflow_calling_its_own_flow_is_refused_when_the_flow_loads(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError, match=r"Recursive call to flow \[roost.tests.itself\]"):
        engine.load("""
            id: itself
            namespace: roost.tests
            tasks:
              - id: again
                type: io.kestra.plugin.core.flow.Subflow
                namespace: roost.tests
                flowId: itself
        """)


def test_subflow_recursive_chain_is_refused_by_roost_validate(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    for name, target in (("a", "b"), ("b", "c"), ("c", "b")):
        write_flow(engine, f"{name}.yml", f"""
            id: {name}
            namespace: roost.loop
            tasks:
              - id: to_{target}
                type: io.kestra.plugin.core.flow.Subflow
                namespace: roost.loop
                flowId: {target}
        """)
    assert main(["validate", str(engine.flow_dir / "a.yml")]) == 2
    err = capsys.readouterr().err
    assert "a.yml:8:13" in err and "task 'to_b'" in err
    assert "roost.loop.a -> roost.loop.b -> roost.loop.c -> roost.loop.b" in err


def test_subflow_recursion_decided_by_a_template_is_stopped_when_it_runs(engine: Engine) -> None:
    result = engine.run("""
        id: sneaky
        namespace: roost.tests
        tasks:
          - id: again
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.tests
            flowId: "{{ flow.id }}"
    """)
    assert result.state == "FAILED"
    assert any("recursive subflow call: roost.tests.sneaky -> roost.tests.sneaky" in line
               for line in result.logs("again"))


def test_subflow_killing_the_parent_kills_the_child_it_waits_for(engine: Engine) -> None:
    write_flow(engine, "waits.yml", """
        id: waits
        namespace: roost.sub
        tasks:
          - id: hold
            type: io.kestra.plugin.core.flow.Pause
    """)
    flow = engine.load("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: waits
    """)
    executor = Executor(engine.runtime)
    started = threading.Event()
    child_ids: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, LogLine) and event.message.startswith("Created new execution"):
            child_ids.append(event.message.split()[3])
            started.set()

    executor.bus.subscribe(on_event)
    handle = executor.start(executor.prepare(flow))
    assert started.wait(30)
    handle.cancel()
    execution = handle.wait(30)
    assert execution.state is State.KILLED
    assert child_execution(engine, child_ids[0]).state is State.KILLED


def test_subflow_schedule_date_that_is_not_a_date_fails_naming_the_property(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            scheduleDate: next tuesday
    """)
    assert result.state == "FAILED"
    assert any("'scheduleDate'" in line and "next tuesday" in line for line in result.logs("call"))


def test_subflow_schedule_date_delays_the_child_until_that_date(engine: Engine) -> None:
    from datetime import UTC, datetime, timedelta

    write_flow(engine, "child.yml", CHILD)
    when = datetime.now(UTC) + timedelta(milliseconds=200)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        inputs:
          - id: when
            type: STRING
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
            scheduleDate: "{{ inputs.when }}"
    """, {"when": when.isoformat()})
    assert result.state == "SUCCESS"
    child = child_execution(engine, result.run_of("call").outputs["executionId"])
    # History keeps milliseconds: the child's start, truncated, may read up to 1 ms before `when`.
    assert child.start_date is not None and child.start_date >= when - timedelta(milliseconds=1)


def test_subflow_invalid_child_fails_the_task_with_the_childs_own_errors(engine: Engine) -> None:
    write_flow(engine, "child.yml", """
        id: child
        namespace: roost.sub
        tasks:
          - id: oops
            type: io.kestra.plugin.core.debug.Nope
    """)
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
    """)
    assert result.state == "FAILED"
    (message,) = [line for line in result.logs("call") if "invalid" in line]
    assert "roost.sub.child is invalid" in message and "unknown task type" in message


def test_subflow_disabled_child_is_not_executed(engine: Engine) -> None:
    write_flow(engine, "child.yml", CHILD.replace("labels:", "disabled: true\n    labels:", 1))
    result = engine.run("""
        id: parent
        namespace: roost.tests
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: roost.sub
            flowId: child
    """)
    assert result.state == "FAILED"
    assert any("Cannot execute a flow which is disabled" in line for line in result.logs("call"))
