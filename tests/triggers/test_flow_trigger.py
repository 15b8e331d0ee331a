"""io.kestra.plugin.core.trigger.Flow in the scheduler: an execution ending starts the flows that
listen to it, with Kestra's conditions, preconditions, states and trigger variables."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from engine.core.records import Execution
from engine.triggers.flow_conditions import window_bounds
from engine.triggers.properties import TriggerError

UPSTREAM = """
id: {id}
namespace: {namespace}
labels:
  team: data
inputs:
  - id: fail
    type: BOOLEAN
    defaults: false
tasks:
  - id: produce
    type: io.kestra.plugin.core.debug.Return
    format: "rows-42"
  - id: maybe_fail
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{{{ inputs.fail }}}}"
outputs:
  - id: result
    type: STRING
    value: "{{{{ outputs.produce.value }}}}"
"""


def listener(trigger: str, flow_id: str = "downstream", extra: str = "") -> str:
    lines = "".join(f"    {line}\n" for line in trigger.strip().splitlines())
    return f"""
id: {flow_id}
namespace: company.analytics
inputs:
  - id: upstream_result
    type: STRING
    defaults: none
{extra}
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{{{ trigger.flowId }}}}/{{{{ trigger.state }}}}/{{{{ inputs.upstream_result }}}}"
triggers:
  - id: after
    type: io.kestra.plugin.core.trigger.Flow
{lines}"""


def load(harness, text: str, name: str):
    return harness.engine.load(text, name)


def run_upstream(harness, flow_id: str = "extract", namespace: str = "company.team",
                 fail: bool = False) -> Execution:
    flow = load(harness, UPSTREAM.format(id=flow_id, namespace=namespace), f"{flow_id}-{namespace}.yml")
    executor = harness.scheduler.executor
    handle = executor.prepare(flow, {"fail": fail}, options=harness.scheduler.options)
    executor.start(handle)
    return handle.wait(60)


def started_by(harness, flow_id: str) -> list[Execution]:
    return [e for e in harness.finished if e.flow_id == flow_id]


def settle(harness, seconds: float = 0.3) -> None:
    """Give the flow-trigger thread a moment: used only where NOTHING must happen."""
    time.sleep(seconds)
    harness.wait_for(lambda: not harness.scheduler.running_executions(), 30, "executions to end")


def test_an_ending_execution_starts_the_listening_flow_with_kestra_trigger_variables(harness):
    harness.start(load(harness, listener("""
inputs:
  upstream_result: "{{ trigger.outputs.result }}"
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionFlow
    namespace: company.team
    flowId: extract
"""), "downstream.yml"))
    upstream = run_upstream(harness)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
    [downstream] = started_by(harness, "downstream")
    assert downstream.state.value == "SUCCESS"
    assert downstream.trigger == {"executionId": upstream.id, "namespace": "company.team", "flowId": "extract",
                                  "flowRevision": 1, "state": "SUCCESS", "outputs": {"result": "rows-42"}}
    assert downstream.inputs["upstream_result"] == "rows-42"


def test_legacy_type_and_condition_names_work(harness):
    harness.start(load(harness, listener("""
conditions:
  - type: io.kestra.core.models.conditions.types.ExecutionFlowCondition
    namespace: company.team
    flowId: extract
""").replace("io.kestra.plugin.core.trigger.Flow", "io.kestra.core.models.triggers.types.Flow"), "d.yml"))
    run_upstream(harness)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")


def test_execution_flow_condition_ignores_other_flows(harness):
    harness.start(load(harness, listener("""
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionFlow
    namespace: company.team
    flowId: extract
"""), "d.yml"))
    run_upstream(harness, flow_id="other")
    settle(harness)
    assert started_by(harness, "downstream") == []


def test_execution_status_condition_filters_on_the_upstream_state(harness):
    harness.start(load(harness, listener("""
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionStatus
    in: [FAILED]
"""), "d.yml"))
    run_upstream(harness)
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, fail=True)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
    assert started_by(harness, "downstream")[0].trigger["state"] == "FAILED"


def test_states_limits_which_state_changes_are_evaluated(harness):
    harness.start(load(harness, listener("states: [FAILED, WARNING]"), "d.yml"))
    run_upstream(harness)
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, fail=True)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")


def test_a_running_state_in_states_fires_while_the_upstream_runs(harness):
    harness.start(load(harness, listener("""
states: [RUNNING]
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionFlow
    namespace: company.team
    flowId: extract
"""), "d.yml"))
    run_upstream(harness)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
    settle(harness)
    assert [e.trigger["state"] for e in started_by(harness, "downstream")] == ["RUNNING"]


def test_namespace_labels_and_expression_conditions(harness):
    harness.start(load(harness, listener("""
conditions:
  - type: io.kestra.plugin.core.condition.ExecutionNamespace
    namespace: company
    comparison: PREFIX
  - type: io.kestra.plugin.core.condition.ExecutionLabels
    labels:
      team: data
  - type: io.kestra.plugin.core.condition.Expression
    expression: "{{ trigger.outputs.result == 'rows-42' and execution.id == trigger.executionId }}"
"""), "d.yml"))
    run_upstream(harness, namespace="elsewhere")
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, namespace="company.sales")
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")


def test_a_false_expression_or_not_condition_blocks(harness):
    harness.start(load(harness, listener("""
conditions:
  - type: io.kestra.plugin.core.condition.Not
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionOutputs
        expression: "{{ trigger.outputs.result == 'rows-42' }}"
"""), "d.yml"))
    run_upstream(harness)
    settle(harness)
    assert started_by(harness, "downstream") == []


def test_a_flow_never_triggers_itself(harness):
    looping = listener("conditions: []", flow_id="looping")
    harness.start(load(harness, looping, "looping.yml"))
    flow = load(harness, looping, "looping.yml")
    handle = harness.scheduler.executor.prepare(flow, {}, options=harness.scheduler.options)
    harness.scheduler.executor.start(handle)
    handle.wait(60)
    settle(harness)
    assert len(started_by(harness, "looping")) == 1


def test_preconditions_fire_once_every_upstream_flow_has_succeeded_in_the_window(harness):
    harness.start(load(harness, listener("""
preconditions:
  id: both
  flows:
    - namespace: company.team
      flowId: extract
      states: [SUCCESS]
    - namespace: company.team
      flowId: load
      states: [SUCCESS]
"""), "d.yml"))
    run_upstream(harness, flow_id="extract")
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, flow_id="load")
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
    run_upstream(harness, flow_id="load")  # results were reset: extract must succeed again
    settle(harness)
    assert len(started_by(harness, "downstream")) == 1


def test_preconditions_where_filters_on_fields(harness):
    harness.start(load(harness, listener("""
preconditions:
  id: failures
  where:
    - id: failed_team_flows
      operand: AND
      filters:
        - field: NAMESPACE
          type: STARTS_WITH
          value: company.
        - field: STATE
          type: IN
          values: [FAILED, KILLED]
"""), "d.yml"))
    run_upstream(harness)
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, fail=True)
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")


def test_invalid_inputs_start_nothing_and_say_why(harness):
    harness.start(load(harness, listener("""
inputs:
  upstream_result: "{{ trigger.outputs.nothing.deeper }}"
"""), "d.yml"))
    run_upstream(harness)
    harness.wait_for(lambda: any("invalid inputs" in line for line in harness.logs()), what="the warning")
    settle(harness)
    assert started_by(harness, "downstream") == []


def test_the_trigger_is_listed_active_and_cannot_fire_now(harness):
    flow = load(harness, listener("conditions: []"), "d.yml")
    scheduler = harness.start(flow)
    status = scheduler.status(harness.key(flow, "after"))
    assert (status.state, status.kind) == ("ACTIVE", "flow")
    with pytest.raises(TriggerError, match="run that flow instead"):
        scheduler.fire_now(harness.key(flow, "after"))


def test_a_paused_flow_trigger_does_not_fire(harness):
    flow = load(harness, listener("conditions: []"), "d.yml")
    scheduler = harness.start(flow)
    scheduler.pause(harness.key(flow, "after"))
    run_upstream(harness)
    settle(harness)
    assert started_by(harness, "downstream") == []


def test_states_created_is_refused_at_load(harness):
    from engine.core.errors import InvalidFlowError

    with pytest.raises(InvalidFlowError, match="cannot hold CREATED"):
        load(harness, listener("states: [CREATED]"), "d.yml")


def test_duration_window_starts_at_midnight_and_sliding_window_at_now():
    now = datetime(2024, 5, 3, 14, 37, 12, tzinfo=UTC)
    assert window_bounds({}, now)[0] == datetime(2024, 5, 3, tzinfo=UTC)
    start, end = window_bounds({"window": "PT10M"}, now)
    assert (start.hour, start.minute, end.minute, end.second) == (14, 30, 39, 59)
    # Kestra's code (not its description): a PT6H window starts at the current hour, then advances.
    assert window_bounds({"window": "PT6H", "windowAdvance": "PT3H"}, now)[0].hour == 17
    assert window_bounds({"type": "SLIDING_WINDOW", "window": "PT1H"}, now)[0] == now
    assert window_bounds({"type": "DAILY_TIME_DEADLINE", "deadline": "09:00:00"}, now)[1].hour == 9


def test_multiple_condition_waits_for_each_named_condition_within_its_window(harness):
    harness.start(load(harness, listener("""
conditions:
  - id: both
    type: io.kestra.plugin.core.condition.MultipleCondition
    window: P1D
    windowAdvance: P0D
    conditions:
      ok:
        type: io.kestra.plugin.core.condition.ExecutionStatus
        in: [SUCCESS]
      first:
        type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: extract
      second:
        type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: load
"""), "d.yml"))
    run_upstream(harness, flow_id="load")
    settle(harness)
    assert started_by(harness, "downstream") == []
    run_upstream(harness, flow_id="extract")
    harness.wait_for(lambda: len(started_by(harness, "downstream")) == 1, what="the downstream execution")
